/**
 * The session lifecycle (DESIGN §3): create a session after sign-in, authenticate a session token on every
 * request, refresh the IdP's tokens before they expire, and revoke a session everywhere on sign-out.
 *
 * - A valid signature is not enough: the record must still exist in the store, so deleting it (sign-out,
 *   `invalid_grant`) ends every copy of the token, cookie and header alike.
 * - Hot path: a verified token's session is cached in process for `cacheTtlMs`. Revocations are published
 *   to every replica, which drops its entry on receipt; the short TTL bounds the damage when a message is
 *   lost (pub/sub is at most once and loses what is sent while Redis is down).
 * - Refresh happens once per session across all processes: single-flight inside the process, and a store
 *   lease `refresh:<id>` across processes, renewed while the IdP call runs.
 * - Store outage: cached sessions keep working until their entry expires; anything that needs the store
 *   fails with ERR_STORE_UNAVAILABLE (503).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../shared/clock.js';
import { GatehouseError, isGatehouseError, toGatehouseError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { KvStore, Lease } from '../store/kv-store.js';
import type { AuthKeys } from './secrets.js';
import { VerifiedSessionCache, type CachedSession, type Session } from './session-service-cache.js';
import { isSessionId, newSessionId } from './session-id.js';
import {
  openSessionRecord,
  sealSessionRecord,
  type IdpTokens,
  type SessionRecord,
  type SignedInUser,
} from './session-record.js';
import { signSessionToken, verifySessionToken } from './session-token.js';

export type { Session } from './session-service-cache.js';

/** What sign-in knows about the user; the service adds the times. */
export type NewSession = SignedInUser;

export interface CreatedSession {
  /** The session token: the cookie value and the header token. */
  readonly token: string;
  readonly sessionId: string;
  /** Milliseconds since the epoch, whole seconds: the token's `exp` and the record's expiry. */
  readonly expiresAt: number;
}

export interface SessionServiceOptions {
  readonly store: KvStore;
  readonly keys: Pick<AuthKeys, 'sessionToken' | 'sessionRecord'>;
  readonly clock: Clock;
  /** `cookie_expire`: how long a session lasts after sign-in; default 14 hours. */
  readonly sessionTtlMs?: number;
  /**
   * Renews the IdP tokens with a refresh token (oidc-client's `refresh`); rejects with
   * ERR_IDP_GRANT_INVALID when the IdP answers `invalid_grant`. Without it, tokens are never refreshed.
   */
  readonly refreshTokens?: (refreshToken: string) => Promise<IdpTokens>;
  /**
   * Refresh once the access token expires within this long, or within half its lifetime when that is
   * shorter (see `accessTokenRefreshDueAt`); default 60 s.
   */
  readonly refreshAheadMs?: number;
  /** How long a verified token's session is served from memory; default 3 s. */
  readonly cacheTtlMs?: number;
  /** Most tokens cached at once; default 10,000. */
  readonly maxCachedSessions?: number;
  /** TTL of the cross-process refresh lease, renewed every third of it while the IdP call runs; default 10 s. */
  readonly refreshLeaseTtlMs?: number;
  readonly logger?: Pick<Logger, 'warn'>;
}

export interface SessionService {
  /** Stores a new session and signs its token. */
  create(session: NewSession): Promise<CreatedSession>;
  /**
   * The session a token names, with its IdP tokens refreshed when they are about to expire. Rejects with
   * ERR_SESSION_INVALID (not a token of ours), ERR_SESSION_EXPIRED (expired, signed out, or ended by the
   * IdP) or ERR_STORE_UNAVAILABLE (the store is needed and cannot be reached).
   */
  authenticate(token: string): Promise<Session>;
  /** Ends a session on every replica: deletes the record and tells every process to drop its cache entry. */
  revoke(sessionId: string): Promise<void>;
  /** Stops listening for revocations. Idempotent; the store is the caller's to close. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
/**
 * Each numeric option's default and smallest acceptable value. A session lasts at least a second because
 * the token's `exp` is in whole seconds and must come after its `iat` (session-token.ts); the lease is
 * renewed every third of its TTL, which must be at least a millisecond.
 */
const SETTINGS = {
  sessionTtlMs: { fallback: 14 * HOUR_MS, minimum: 1000 },
  refreshAheadMs: { fallback: 60_000, minimum: 0 },
  cacheTtlMs: { fallback: 3_000, minimum: 1 },
  maxCachedSessions: { fallback: 10_000, minimum: 1 },
  refreshLeaseTtlMs: { fallback: 10_000, minimum: 3 },
} as const;
type SettingName = keyof typeof SETTINGS;
/**
 * A token is refreshed at the latest once this share of its lifetime has passed, so a token that lives
 * shorter than `refreshAheadMs` (an IdP issuing 5-minute or 5-second tokens) is not due the moment it
 * arrives, which would refresh it on every request.
 */
const REFRESH_AT_LIFETIME_FRACTION = 0.5;
/** How often a process without the lease looks for the other process's refreshed record. */
const REFRESH_POLL_INTERVAL_MS = 100;
const REVOCATION_CHANNEL = 'session-revocations';

const recordKey = (sessionId: string): string => `session:${sessionId}`;
const refreshLeaseKey = (sessionId: string): string => `refresh:${sessionId}`;

/** The record is gone: signed out, or ended by the IdP. */
const sessionEnded = (): GatehouseError => new GatehouseError('ERR_SESSION_EXPIRED', 'the session has ended');

/** Errors after which the session is gone, as opposed to failures that leave it usable. */
const isSessionOver = (error: unknown): boolean =>
  isGatehouseError(error) && (error.code === 'ERR_SESSION_EXPIRED' || error.code === 'ERR_SESSION_INVALID');

const isAccessTokenValid = (record: SessionRecord, now: number): boolean =>
  record.tokens.accessTokenExpiresAt === undefined || now < record.tokens.accessTokenExpiresAt;

/**
 * When the access token becomes due for refresh (milliseconds since the epoch), or undefined when it does
 * not expire: `refreshAheadMs` before its expiry, or halfway through its lifetime when that comes later.
 * Records written before the issue time was kept have no lifetime to go by and use `refreshAheadMs`; the
 * tokens their first refresh brings carry it.
 */
export function accessTokenRefreshDueAt(tokens: IdpTokens, refreshAheadMs: number): number | undefined {
  const { accessTokenIssuedAt: issuedAt, accessTokenExpiresAt: expiresAt } = tokens;
  if (expiresAt === undefined) return undefined;
  const lifetimeMs = issuedAt === undefined ? Infinity : Math.max(0, expiresAt - issuedAt);
  return expiresAt - Math.min(refreshAheadMs, lifetimeMs * REFRESH_AT_LIFETIME_FRACTION);
}

/** Subscribes to revocations before resolving, so no sign-out on another replica is missed once it has. */
export async function createSessionService(options: SessionServiceOptions): Promise<SessionService> {
  const service = new StoreSessionService(options);
  await service.listenForRevocations();
  return service;
}

/** A session together with the cache generation read before the store was, for `VerifiedSessionCache.set`. */
interface Loaded {
  readonly session: Session;
  readonly generation: number;
}

class StoreSessionService implements SessionService {
  readonly #store: KvStore;
  readonly #keys: SessionServiceOptions['keys'];
  readonly #clock: Clock;
  readonly #refreshTokens: SessionServiceOptions['refreshTokens'];
  readonly #logger: SessionServiceOptions['logger'];
  readonly #sessionTtlMs: number;
  readonly #refreshAheadMs: number;
  readonly #leaseTtlMs: number;
  readonly #cache: VerifiedSessionCache;
  /** Refreshes in progress in this process, by session id: concurrent requests share one. */
  readonly #refreshing = new Map<string, Promise<Loaded>>();
  /** Cache misses being read, by token: concurrent requests with one token share one read. */
  readonly #loading = new Map<string, Promise<CachedSession>>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(options: SessionServiceOptions) {
    const settings = readSettings(options);
    this.#store = options.store;
    this.#keys = options.keys;
    this.#clock = options.clock;
    this.#refreshTokens = options.refreshTokens;
    this.#logger = options.logger;
    this.#sessionTtlMs = settings.sessionTtlMs;
    this.#refreshAheadMs = settings.refreshAheadMs;
    this.#leaseTtlMs = settings.refreshLeaseTtlMs;
    this.#cache = new VerifiedSessionCache(settings.cacheTtlMs, settings.maxCachedSessions);
  }

  async listenForRevocations(): Promise<void> {
    this.#unsubscribe = await this.#store.subscribe(REVOCATION_CHANNEL, (sessionId) => {
      // Anyone who can publish on the store could send anything; only well-formed ids are acted on.
      if (isSessionId(sessionId)) this.#cache.dropSession(sessionId);
    });
  }

  async create(session: NewSession): Promise<CreatedSession> {
    const createdAt = this.#clock.now();
    // Whole seconds, so the token's `exp` (RFC 7519 §2 NumericDate, seconds) equals the record's expiry.
    const expiresAt = Math.floor((createdAt + this.#sessionTtlMs) / 1000) * 1000;
    const sessionId = newSessionId();
    const record: SessionRecord = { ...session, createdAt, expiresAt };
    await this.#store.set(
      recordKey(sessionId),
      this.#seal(record, sessionId),
      ttlUntil(expiresAt, createdAt),
    );
    const token = await signSessionToken(
      { sessionId, issuedAt: createdAt, expiresAt },
      this.#keys.sessionToken.current,
    );
    return { token, sessionId, expiresAt };
  }

  async authenticate(token: string): Promise<Session> {
    const now = this.#clock.now();
    const found = this.#cache.get(token, this.#clock.monotonic()) ?? (await this.#loadOnce(token, now));
    if (Math.min(found.tokenExpiresAt, found.session.record.expiresAt) <= now) {
      throw new GatehouseError('ERR_SESSION_EXPIRED', 'the session has expired');
    }
    if (this.#refreshTokenDue(found.session.record, now) === undefined) return found.session;

    const refreshed = await this.#refreshOnce(found.session);
    // The same session back means nothing new was learned; re-caching it would stretch the cache entry's
    // life past `cacheTtlMs`, during a store outage for as long as requests keep coming.
    if (refreshed.session !== found.session) {
      const cached: CachedSession = { session: refreshed.session, tokenExpiresAt: found.tokenExpiresAt };
      this.#cache.set(token, cached, this.#clock.monotonic(), refreshed.generation);
    }
    return refreshed.session;
  }

  /**
   * Single flight per token on a cache miss: the requests that arrive while a token's session is read share
   * that one verification and store read, rather than every request of a busy client reading the store
   * each time the cache entry expires.
   */
  #loadOnce(token: string, now: number): Promise<CachedSession> {
    let loading = this.#loading.get(token);
    if (loading === undefined) {
      loading = this.#load(token, now).finally(() => this.#loading.delete(token));
      this.#loading.set(token, loading);
    }
    return loading;
  }

  async #load(token: string, now: number): Promise<CachedSession> {
    const claims = await verifySessionToken(token, this.#keys.sessionToken, now);
    const generation = this.#cache.generation;
    const found = { session: await this.#read(claims.sessionId), tokenExpiresAt: claims.expiresAt };
    this.#cache.set(token, found, this.#clock.monotonic(), generation);
    return found;
  }

  async revoke(sessionId: string): Promise<void> {
    if (!isSessionId(sessionId)) throw new TypeError('revoke needs a session id');
    this.#cache.dropSession(sessionId);
    await this.#store.delete(recordKey(sessionId));
    try {
      await this.#store.publish(REVOCATION_CHANNEL, sessionId);
    } catch (error) {
      // The record is gone, which is what counts; other replicas stop honouring the session when their
      // cache entries expire instead of at once.
      this.#logger?.warn(
        { err: error, sessionId },
        'could not announce a session revocation to other replicas',
      );
    }
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    this.#cache.clear();
    await unsubscribe?.();
  }

  /** The stored session, or ERR_SESSION_EXPIRED when its record is gone. */
  async #read(sessionId: string): Promise<Session> {
    const sealed = await this.#store.get(recordKey(sessionId));
    if (sealed === undefined) throw sessionEnded();
    return { id: sessionId, record: openSessionRecord(sealed, this.#keys.sessionRecord, sessionId) };
  }

  #seal(record: SessionRecord, sessionId: string): Uint8Array {
    return sealSessionRecord(record, this.#keys.sessionRecord.current, sessionId);
  }

  /** The refresh token to use when the access token is about to expire and can be refreshed. */
  #refreshTokenDue(record: SessionRecord, now: number): string | undefined {
    if (this.#refreshTokens === undefined) return undefined;
    const dueAt = accessTokenRefreshDueAt(record.tokens, this.#refreshAheadMs);
    return dueAt !== undefined && now >= dueAt ? record.tokens.refreshToken : undefined;
  }

  /** In-process single flight: every request for the session while a refresh runs waits for that one. */
  #refreshOnce(session: Session): Promise<Loaded> {
    const running = this.#refreshing.get(session.id);
    if (running !== undefined) return running;
    const started = this.#refresh(session).finally(() => {
      this.#refreshing.delete(session.id);
    });
    this.#refreshing.set(session.id, started);
    return started;
  }

  async #refresh(session: Session): Promise<Loaded> {
    const generation = this.#cache.generation;
    try {
      return { session: await this.#refreshAcrossProcesses(session), generation };
    } catch (error) {
      if (isSessionOver(error)) throw error;
      return { session: this.#keepWhileAccessTokenValid(session, error), generation };
    }
  }

  /**
   * Refreshes under the lease, or lets the process holding it do so. Without the lease, a session whose
   * access token is still valid is returned as it is: it is correct for now, the request does not wait for
   * another process's IdP call, and the rotated tokens reach this process at its next store read (at the
   * latest when the cache entry expires). Only once the access token has expired does this process wait,
   * polling the record for the other process's result; if that process died, its lease lapses (it is no
   * longer renewed) and this one takes over.
   */
  async #refreshAcrossProcesses(session: Session): Promise<Session> {
    const maxPolls = Math.ceil(this.#leaseTtlMs / REFRESH_POLL_INTERVAL_MS) + 1;
    let current = session;
    for (let polls = 0; ; polls += 1) {
      const lease = await this.#store.acquireLease(refreshLeaseKey(session.id), this.#leaseTtlMs);
      if (lease !== undefined) return this.#refreshHoldingLease(session.id, lease);
      if (isAccessTokenValid(current.record, this.#clock.now())) return current;
      if (polls === maxPolls) {
        throw new GatehouseError('ERR_SESSION_EXPIRED', 'the session could not be refreshed in time');
      }
      await sleep(REFRESH_POLL_INTERVAL_MS);
      current = await this.#read(session.id);
    }
  }

  async #refreshHoldingLease(sessionId: string, lease: Lease): Promise<Session> {
    try {
      return await this.#refreshRecord(sessionId, lease);
    } finally {
      // A lease that cannot be released (store down) lapses after its TTL.
      await lease.release().catch(() => undefined);
    }
  }

  async #refreshRecord(sessionId: string, lease: Lease): Promise<Session> {
    const key = recordKey(sessionId);
    const sealed = await this.#store.get(key);
    if (sealed === undefined) throw sessionEnded();
    const record = openSessionRecord(sealed, this.#keys.sessionRecord, sessionId);
    const refreshTokens = this.#refreshTokens;
    const refreshToken = this.#refreshTokenDue(record, this.#clock.now());
    // Another process refreshed between this one's read and its taking the lease.
    if (refreshToken === undefined || refreshTokens === undefined) return { id: sessionId, record };

    const tokens = await this.#callIdp(sessionId, lease, () => refreshTokens(refreshToken));
    const refreshed: SessionRecord = { ...record, tokens: mergeRefreshedTokens(record.tokens, tokens) };
    const now = this.#clock.now();
    if (refreshed.expiresAt <= now) throw sessionEnded();
    // Compare-and-set against the bytes read under the lease, not a plain set: a sign-out that deleted the
    // record while the IdP call ran must win (a set would bring the session back), and should the lease
    // have lapsed and another process have written first, its record is not overwritten either.
    const sealedRefreshed = this.#seal(refreshed, sessionId);
    if (!(await this.#store.replaceIf(key, sealed, sealedRefreshed, ttlUntil(refreshed.expiresAt, now)))) {
      this.#logger?.warn(
        { sessionId },
        'the session record changed during a token refresh; keeping the stored one',
      );
      return this.#read(sessionId);
    }
    if (this.#refreshTokenDue(refreshed, now) !== undefined) {
      this.#logger?.warn(
        { sessionId, accessTokenExpiresAt: refreshed.tokens.accessTokenExpiresAt },
        'the IdP issued an access token that is already due for refresh; every request will refresh it',
      );
    }
    return { id: sessionId, record: refreshed };
  }

  /** Calls the IdP while renewing the lease; `invalid_grant` ends the session here and everywhere. */
  async #callIdp(sessionId: string, lease: Lease, refresh: () => Promise<IdpTokens>): Promise<IdpTokens> {
    const renewal = setInterval(
      () => {
        lease.renew(this.#leaseTtlMs).then(
          (isHeld) => {
            if (!isHeld) this.#logger?.warn({ sessionId }, 'lost the refresh lease while the IdP call ran');
          },
          (error: unknown) => {
            this.#logger?.warn({ err: error, sessionId }, 'could not renew the refresh lease');
          },
        );
      },
      Math.floor(this.#leaseTtlMs / 3),
    );
    renewal.unref();
    try {
      return await refresh();
    } catch (error) {
      // RFC 6749 §5.2: the refresh token is invalid, expired or revoked; only a new sign-in helps.
      if (isGatehouseError(error) && error.code === 'ERR_IDP_GRANT_INVALID') {
        await this.revoke(sessionId).catch((revokeError: unknown) => {
          // The record stays until the store is back; the next refresh attempt meets the same answer.
          this.#logger?.warn({ err: revokeError, sessionId }, 'could not delete a session the IdP ended');
        });
        throw new GatehouseError('ERR_SESSION_EXPIRED', 'the identity provider ended the session', {
          cause: error,
        });
      }
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }

  /** A failed refresh (IdP or store trouble) leaves the session usable until its access token expires. */
  #keepWhileAccessTokenValid(session: Session, error: unknown): Session {
    const failure = toGatehouseError(error);
    // Store outages are reported by the store itself, at every reconnection attempt.
    if (failure.code !== 'ERR_STORE_UNAVAILABLE') {
      this.#logger?.warn({ err: error, sessionId: session.id }, 'could not refresh the IdP tokens');
    }
    if (!isAccessTokenValid(session.record, this.#clock.now())) throw failure;
    return session;
  }
}

/** The numeric options with their defaults; a bad one is a programming mistake. */
function readSettings(options: SessionServiceOptions): Record<SettingName, number> {
  const settings = {} as Record<SettingName, number>;
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const { fallback, minimum } = SETTINGS[name];
    const value = options[name] ?? fallback;
    if (!Number.isSafeInteger(value) || value < minimum) {
      throw new TypeError(`${name} must be a whole number of at least ${minimum}, got ${value}`);
    }
    settings[name] = value;
  }
  return settings;
}

/** A store TTL from now until `expiresAt`: whole milliseconds, at least one. */
function ttlUntil(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil(expiresAt - now));
}

/**
 * The tokens after a refresh. The response may leave out a new refresh token, in which case the old one
 * stays valid (RFC 6749 §6), and a new ID token (OpenID Connect Core §12.2), so each is kept unless
 * replaced. Each token travels with its own expiry, so an old expiry never sticks to a new token.
 */
function mergeRefreshedTokens(previous: IdpTokens, refreshed: IdpTokens): IdpTokens {
  const id = refreshed.idToken === undefined ? previous : refreshed;
  const refresh = refreshed.refreshToken === undefined ? previous : refreshed;
  return withoutUndefined({
    idToken: id.idToken,
    idTokenExpiresAt: id.idTokenExpiresAt,
    accessToken: refreshed.accessToken,
    accessTokenIssuedAt: refreshed.accessTokenIssuedAt,
    accessTokenExpiresAt: refreshed.accessTokenExpiresAt,
    refreshToken: refresh.refreshToken,
    refreshTokenExpiresAt: refresh.refreshTokenExpiresAt,
  });
}

/** The fields that have a value: with exactOptionalPropertyTypes, an absent field is not an undefined one. */
function withoutUndefined<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
