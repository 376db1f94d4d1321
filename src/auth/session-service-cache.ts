/**
 * The hot-path cache of session-service.ts: session tokens verified in the last few seconds, each with the
 * session it named, so most requests touch neither the signature check nor the store. Keyed by the whole
 * token string, so a hit means these exact characters passed verification before.
 *
 * Entries are inserted in the order they become fresh and all live equally long, so the oldest is always
 * first: expired entries are dropped from the front on every insert, and a size limit evicts from the
 * front too, so a flood of distinct valid tokens cannot grow the process without bound.
 */
import type { SessionRecord } from './session-record.js';

export interface Session {
  /** The session id: the token's `jti` and the record's key in the store. */
  readonly id: string;
  readonly record: SessionRecord;
}

export interface CachedSession {
  readonly session: Session;
  /** Milliseconds since the epoch: the token's `exp`. */
  readonly tokenExpiresAt: number;
}

interface Entry {
  readonly cached: CachedSession;
  /** Monotonic milliseconds. */
  readonly freshUntil: number;
}

export class VerifiedSessionCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #tokensBySession = new Map<string, Set<string>>();
  #generation = 0;

  constructor(ttlMs: number, maxEntries: number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /**
   * Changes whenever a session is dropped. A caller reads it before fetching a record and passes it to
   * `set`: a record fetched before a revocation arrived must not be cached after it.
   */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The session a token named when it was verified, while that is at most `ttlMs` old. */
  get(token: string, monotonicNow: number): CachedSession | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.freshUntil > monotonicNow) return entry.cached;
    this.#remove(token);
    return undefined;
  }

  /** Caches a verified token's session, unless a session was dropped since `generation` was read. */
  set(token: string, cached: CachedSession, monotonicNow: number, generation: number): void {
    if (generation !== this.#generation) return;
    // Re-inserted rather than updated in place, so the insertion order stays the order of freshness.
    this.#remove(token);
    this.#entries.set(token, { cached, freshUntil: monotonicNow + this.#ttlMs });
    const tokens = this.#tokensBySession.get(cached.session.id) ?? new Set<string>();
    tokens.add(token);
    this.#tokensBySession.set(cached.session.id, tokens);
    for (const [oldest, entry] of this.#entries) {
      if (entry.freshUntil > monotonicNow && this.#entries.size <= this.#maxEntries) break;
      this.#remove(oldest);
    }
  }

  /** Forgets every token of a session (signed out here or on another replica). */
  dropSession(sessionId: string): void {
    this.#generation += 1;
    for (const token of this.#tokensBySession.get(sessionId) ?? []) this.#entries.delete(token);
    this.#tokensBySession.delete(sessionId);
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#tokensBySession.clear();
  }

  #remove(token: string): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    this.#entries.delete(token);
    const sessionId = entry.cached.session.id;
    const tokens = this.#tokensBySession.get(sessionId);
    tokens?.delete(token);
    if (tokens?.size === 0) this.#tokensBySession.delete(sessionId);
  }
}
