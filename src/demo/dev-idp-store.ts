/**
 * In-memory storage for the development IdP's sessions, grants, codes and tokens, in the shape of
 * oidc-provider's adapter interface (one adapter per model name, all sharing one map). Our own rather
 * than oidc-provider's built-in one so each IdP has its own state (tests start several) and so tests can
 * reach in and revoke a user's refresh tokens.
 */

/** What oidc-provider stores for any model; only the fields read here are named. */
export interface StoredPayload {
  readonly [field: string]: unknown;
  readonly accountId?: string;
  readonly grantId?: string;
  readonly uid?: string;
  consumed?: number;
}

interface Entry {
  readonly model: string;
  readonly payload: StoredPayload;
  /** Milliseconds since the epoch; Infinity when oidc-provider gave no lifetime. */
  readonly expiresAt: number;
}

export interface DevIdpAdapter {
  upsert(id: string, payload: StoredPayload, expiresInSeconds?: number): Promise<void>;
  find(id: string): Promise<StoredPayload | undefined>;
  findByUid(uid: string): Promise<StoredPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export class DevIdpStore {
  private readonly entries = new Map<string, Entry>();

  /** The factory oidc-provider's `adapter` option takes: called once per model name. */
  readonly adapterFor = (model: string): DevIdpAdapter => ({
    upsert: (id, payload, expiresInSeconds) => {
      this.sweepExpired();
      const expiresAt = expiresInSeconds === undefined ? Infinity : Date.now() + expiresInSeconds * 1000;
      this.entries.set(keyOf(model, id), { model, payload, expiresAt });
      return Promise.resolve();
    },
    find: (id) => Promise.resolve(this.live(keyOf(model, id))?.payload),
    findByUid: (uid) => Promise.resolve(this.firstWhere(model, (payload) => payload.uid === uid)?.payload),
    consume: (id) => {
      const entry = this.live(keyOf(model, id));
      // Seconds, as oidc-provider's own epochTime(): a consumed code or refresh token is a replay.
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    },
    destroy: (id) => {
      this.entries.delete(keyOf(model, id));
      return Promise.resolve();
    },
    revokeByGrantId: (grantId) => {
      this.removeWhere(model, (payload) => payload.grantId === grantId);
      return Promise.resolve();
    },
  });

  /** Deletes every stored `model` record the predicate accepts; returns how many went. */
  removeWhere(model: string, predicate: (payload: StoredPayload) => boolean): number {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.model === model && predicate(entry.payload)) {
        this.entries.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt > Date.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private firstWhere(model: string, predicate: (payload: StoredPayload) => boolean): Entry | undefined {
    const now = Date.now();
    for (const entry of this.entries.values()) {
      if (entry.model === model && entry.expiresAt > now && predicate(entry.payload)) return entry;
    }
    return undefined;
  }

  /** A development IdP holds a handful of records; one pass per write keeps memory flat without timers. */
  private sweepExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}

function keyOf(model: string, id: string): string {
  return `${model}:${id}`;
}
