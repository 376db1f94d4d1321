import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../shared/clock.js';
import { GatehouseError } from '../shared/errors.js';
import type { KvStore, Lease } from '../store/kv-store.js';
import { MemoryStore } from '../store/memory-store.js';
import { deriveAuthKeys } from './secrets.js';
import {
  openSessionRecord,
  sealSessionRecord,
  type IdpTokens,
  type SessionRecord,
} from './session-record.js';
import {
  accessTokenRefreshDueAt,
  createSessionService,
  type NewSession,
  type SessionService,
  type SessionServiceOptions,
} from './session-service.js';
import { signSessionToken } from './session-token.js';
import { createFakeClock } from '../../test/harness/fake-clock.js';

const HOUR = 3_600_000;
const secret = (fill: number) => new Uint8Array(32).fill(fill);
const keys = deriveAuthKeys({ sharedSecret: secret(1), previousSharedSecrets: [], cookieSecret: secret(9) });
/** `shared_secret` rotated: the old one is now listed in `previous_shared_secrets`. */
const rotatedKeys = deriveAuthKeys({
  sharedSecret: secret(2),
  previousSharedSecrets: [secret(1)],
  cookieSecret: secret(9),
});
const strangerKeys = deriveAuthKeys({
  sharedSecret: secret(3),
  previousSharedSecrets: [],
  cookieSecret: secret(9),
});

/** A store that counts calls, can be taken down, and can lose published messages. */
class InstrumentedStore implements KvStore {
  readonly calls: string[] = [];
  activeSubscriptions = 0;
  isDown = false;
  losesMessages = false;
  readonly #inner: KvStore;

  constructor(inner: KvStore) {
    this.#inner = inner;
  }

  set(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    return this.#call('set', () => this.#inner.set(key, value, ttlMs));
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.#call('get', () => this.#inner.get(key));
  }
  take(key: string): Promise<Uint8Array | undefined> {
    return this.#call('take', () => this.#inner.take(key));
  }
  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.#inner.delete(key));
  }
  setIfAbsent(key: string, value: Uint8Array, ttlMs: number): Promise<boolean> {
    return this.#call('setIfAbsent', () => this.#inner.setIfAbsent(key, value, ttlMs));
  }
  replaceIf(key: string, expected: Uint8Array, next: Uint8Array, ttlMs: number): Promise<boolean> {
    return this.#call('replaceIf', () => this.#inner.replaceIf(key, expected, next, ttlMs));
  }
  acquireLease(key: string, ttlMs: number): Promise<Lease | undefined> {
    return this.#call('acquireLease', () => this.#inner.acquireLease(key, ttlMs));
  }
  publish(channel: string, message: string): Promise<void> {
    return this.#call('publish', () =>
      this.losesMessages ? Promise.resolve() : this.#inner.publish(channel, message),
    );
  }
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const unsubscribe = await this.#call('subscribe', () => this.#inner.subscribe(channel, onMessage));
    this.activeSubscriptions += 1;
    return async () => {
      this.activeSubscriptions -= 1;
      await unsubscribe();
    };
  }
  ping(): Promise<void> {
    return this.#call('ping', () => this.#inner.ping());
  }
  close(): Promise<void> {
    return this.#inner.close();
  }

  #call<T>(name: string, run: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    if (this.isDown) {
      return Promise.reject(new GatehouseError('ERR_STORE_UNAVAILABLE', 'the session store is unavailable'));
    }
    return run();
  }
}

/** An IdP that answers each refresh with new tokens and a rotated refresh token, and counts the calls. */
function createFakeIdp(clock: Clock, lifetimeMs = HOUR) {
  const received: string[] = [];
  let issued = 1;
  const refreshTokens = async (refreshToken: string): Promise<IdpTokens> => {
    received.push(refreshToken);
    await sleep(10);
    issued += 1;
    return {
      accessToken: `access-${issued}`,
      accessTokenIssuedAt: clock.now(),
      accessTokenExpiresAt: clock.now() + lifetimeMs,
      refreshToken: `refresh-${issued}`,
    };
  };
  return { received, refreshTokens };
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((settle, fail) => {
    resolve = settle;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * Alice just signed in. Without `issuedAt` the tokens are those of a record written before the access
 * token's issue time was kept.
 */
function aliceSignedIn(clock: Clock, accessTokenLifetimeMs = HOUR, issuedAt?: number): NewSession {
  return {
    userId: 'alice-sub',
    email: 'alice@example.com',
    groups: ['staff'],
    claims: { sub: 'alice-sub', email: 'alice@example.com' },
    tokens: {
      idToken: 'id-1',
      idTokenExpiresAt: clock.now() + HOUR,
      accessToken: 'access-1',
      ...(issuedAt === undefined ? {} : { accessTokenIssuedAt: issuedAt }),
      accessTokenExpiresAt: clock.now() + accessTokenLifetimeMs,
      refreshToken: 'refresh-1',
    },
  };
}

describe('accessTokenRefreshDueAt', () => {
  const issuedAt = 1_700_000_000_000;
  const lifetime = (ms: number) => ({ accessTokenIssuedAt: issuedAt, accessTokenExpiresAt: issuedAt + ms });

  it.each([
    ['an hour-long token: refreshAheadMs before expiry', HOUR, HOUR - 60_000],
    ['a 90-second token: halfway, later than refreshAheadMs before expiry', 90_000, 45_000],
    ['a 5-second token: halfway, not at once', 5_000, 2_500],
    ['a token exactly twice refreshAheadMs long: at both', 120_000, 60_000],
    ['a token that expired as it arrived: at its expiry', 0, 0],
  ])('refreshes %s', (_label, lifetimeMs, dueAfterMs) => {
    expect(accessTokenRefreshDueAt(lifetime(lifetimeMs), 60_000)).toBe(issuedAt + dueAfterMs);
  });

  it('uses refreshAheadMs alone for a record without the issue time', () => {
    expect(accessTokenRefreshDueAt({ accessTokenExpiresAt: issuedAt + 5_000 }, 60_000)).toBe(
      issuedAt + 5_000 - 60_000,
    );
  });

  it('never refreshes an access token without an expiry', () => {
    expect(accessTokenRefreshDueAt({ accessToken: 'a', accessTokenIssuedAt: issuedAt }, 60_000)).toBe(
      undefined,
    );
  });

  it('honours refreshAheadMs: 0 (refresh only once expired)', () => {
    expect(accessTokenRefreshDueAt(lifetime(HOUR), 0)).toBe(issuedAt + HOUR);
  });
});

describe('SessionService', () => {
  const services: SessionService[] = [];
  const stores: KvStore[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  function setUp(clock = createFakeClock()) {
    const memory = new MemoryStore({ clock });
    stores.push(memory);
    const store = new InstrumentedStore(memory);
    const start = async (options: Partial<SessionServiceOptions> = {}) => {
      const service = await createSessionService({ store, keys, clock, ...options });
      services.push(service);
      return service;
    };
    const storedRecord = async (sessionId: string): Promise<SessionRecord | undefined> => {
      const sealed = await memory.get(`session:${sessionId}`);
      return sealed === undefined ? undefined : openSessionRecord(sealed, keys.sessionRecord, sessionId);
    };
    return { clock, memory, store, start, storedRecord };
  }

  describe('create and authenticate', () => {
    it('authenticates the token it created with the stored record', async () => {
      const { clock, start } = setUp();
      const service = await start();
      const created = await service.create(aliceSignedIn(clock));
      expect(created.expiresAt).toBe(clock.now() + 14 * HOUR);
      const session = await service.authenticate(created.token);
      expect(session).toEqual({
        id: created.sessionId,
        record: { ...aliceSignedIn(clock), createdAt: clock.now(), expiresAt: created.expiresAt },
      });
    });

    it('stores the record sealed, under session:<id>, for as long as the session lasts', async () => {
      const { clock, memory, start } = setUp();
      const service = await start({ sessionTtlMs: 2 * HOUR });
      const { sessionId } = await service.create(aliceSignedIn(clock));
      const sealed = await memory.get(`session:${sessionId}`);
      expect(Buffer.from(sealed ?? []).toString('latin1')).not.toContain('alice@example.com');
      clock.advance(2 * HOUR - 1);
      expect(await memory.get(`session:${sessionId}`)).toBeDefined();
      clock.advance(1);
      expect(await memory.get(`session:${sessionId}`)).toBeUndefined();
    });

    it('rounds the expiry down to whole seconds, the precision of the token', async () => {
      const clock = createFakeClock();
      clock.advance(1234);
      const { start } = setUp(clock);
      const service = await start({ sessionTtlMs: HOUR });
      const created = await service.create(aliceSignedIn(clock));
      expect(created.expiresAt % 1000).toBe(0);
      expect(clock.now() + HOUR - created.expiresAt).toBe(234);
    });

    it('refuses a token with a valid signature whose record was deleted', async () => {
      const { clock, memory, start } = setUp();
      const service = await start();
      const created = await service.create(aliceSignedIn(clock));
      await memory.delete(`session:${created.sessionId}`);
      await expect(service.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
        status: 401,
      });
    });

    it('refuses an expired session, also when its token is cached', async () => {
      const { clock, start } = setUp();
      const service = await start({ sessionTtlMs: HOUR, cacheTtlMs: 10 * HOUR });
      const created = await service.create(aliceSignedIn(clock));
      await service.authenticate(created.token);
      clock.advance(HOUR);
      await expect(service.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
      });
    });

    it('accepts a token signed before shared_secret was rotated', async () => {
      const { clock, start } = setUp();
      const before = await start();
      const created = await before.create(aliceSignedIn(clock));
      const after = await start({ keys: rotatedKeys });
      await expect(after.authenticate(created.token)).resolves.toMatchObject({ id: created.sessionId });
    });

    it('refuses a token signed with a secret it does not know, before reading the store', async () => {
      const { clock, store, start } = setUp();
      const service = await start();
      const created = await service.create(aliceSignedIn(clock));
      const forged = await signSessionToken(
        { sessionId: created.sessionId, issuedAt: clock.now(), expiresAt: created.expiresAt },
        strangerKeys.sessionToken.current,
      );
      store.calls.length = 0;
      await expect(service.authenticate(forged)).rejects.toMatchObject({ code: 'ERR_SESSION_INVALID' });
      expect(store.calls).toEqual([]);
    });

    it('refuses a tampered token', async () => {
      const { clock, start } = setUp();
      const service = await start();
      const { token } = await service.create(aliceSignedIn(clock));
      const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
      await expect(service.authenticate(tampered)).rejects.toMatchObject({ code: 'ERR_SESSION_INVALID' });
    });

    it('treats nonsensical settings as programming mistakes', async () => {
      const { start } = setUp();
      await expect(start({ sessionTtlMs: 500 })).rejects.toBeInstanceOf(TypeError);
      await expect(start({ cacheTtlMs: 1.5 })).rejects.toBeInstanceOf(TypeError);
      await expect(start({ refreshAheadMs: -1 })).rejects.toBeInstanceOf(TypeError);
    });
  });

  describe('cache', () => {
    it('answers a repeated token from memory without touching the store, until the cache TTL passes', async () => {
      const { clock, store, start } = setUp();
      const service = await start({ cacheTtlMs: 3000 });
      const { token } = await service.create(aliceSignedIn(clock));
      await service.authenticate(token);
      store.calls.length = 0;
      clock.advance(2999);
      await service.authenticate(token);
      expect(store.calls).toEqual([]);
      clock.advance(1);
      await service.authenticate(token);
      expect(store.calls).toEqual(['get']);
    });

    it('reads the store once for many concurrent requests with one token on a cache miss', async () => {
      const { clock, store, start } = setUp();
      const service = await start({ cacheTtlMs: 3000 });
      const { token } = await service.create(aliceSignedIn(clock));
      store.calls.length = 0;
      const sessions = await Promise.all(Array.from({ length: 20 }, () => service.authenticate(token)));
      expect(new Set(sessions.map((session) => session.id)).size).toBe(1);
      expect(store.calls).toEqual(['get']);
      // And again once the entry has expired: one read for the whole burst.
      clock.advance(3000);
      store.calls.length = 0;
      await Promise.all(Array.from({ length: 20 }, () => service.authenticate(token)));
      expect(store.calls).toEqual(['get']);
    });

    it('drops a cached session at once when another instance revokes it', async () => {
      const { clock, start } = setUp();
      const replicaA = await start({ cacheTtlMs: HOUR });
      const replicaB = await start({ cacheTtlMs: HOUR });
      const created = await replicaA.create(aliceSignedIn(clock));
      await replicaA.authenticate(created.token);
      await replicaB.revoke(created.sessionId);
      await vi.waitFor(async () => {
        await expect(replicaA.authenticate(created.token)).rejects.toMatchObject({
          code: 'ERR_SESSION_EXPIRED',
        });
      });
    });

    it('falls back to the cache TTL when the revocation message is lost', async () => {
      const { clock, store, start } = setUp();
      const replicaA = await start({ cacheTtlMs: 3000 });
      const replicaB = await start({ cacheTtlMs: 3000 });
      const created = await replicaA.create(aliceSignedIn(clock));
      await replicaA.authenticate(created.token);
      store.losesMessages = true;
      await replicaB.revoke(created.sessionId);
      await sleep(5);
      await expect(replicaA.authenticate(created.token)).resolves.toMatchObject({ id: created.sessionId });
      clock.advance(3000);
      await expect(replicaA.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
      });
    });

    it('ignores revocation messages that are not session ids', async () => {
      const { clock, memory, start } = setUp();
      const service = await start({ cacheTtlMs: HOUR });
      const { token } = await service.create(aliceSignedIn(clock));
      await service.authenticate(token);
      await memory.publish('session-revocations', '../../etc');
      await sleep(1);
      await expect(service.authenticate(token)).resolves.toBeDefined();
    });

    it('subscribes to revocations when it starts and unsubscribes once when closed', async () => {
      const { store, start } = setUp();
      const service = await start();
      expect(store.activeSubscriptions).toBe(1);
      await service.close();
      await service.close();
      expect(store.activeSubscriptions).toBe(0);
    });
  });

  describe('revoke', () => {
    it('deletes the record and publishes the session id', async () => {
      const { clock, memory, start, storedRecord } = setUp();
      const service = await start();
      const created = await service.create(aliceSignedIn(clock));
      const messages: string[] = [];
      await memory.subscribe('session-revocations', (message) => messages.push(message));
      await service.revoke(created.sessionId);
      expect(await storedRecord(created.sessionId)).toBeUndefined();
      await vi.waitFor(() => {
        expect(messages).toEqual([created.sessionId]);
      });
      await expect(service.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
      });
    });

    it('fails with ERR_STORE_UNAVAILABLE when the record cannot be deleted', async () => {
      const { clock, store, start } = setUp();
      const service = await start();
      const created = await service.create(aliceSignedIn(clock));
      store.isDown = true;
      await expect(service.revoke(created.sessionId)).rejects.toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
      });
    });
  });

  describe('refresh', () => {
    it('refreshes once for 20 concurrent requests near expiry and stores the rotated refresh token', async () => {
      const { clock, start, storedRecord } = setUp();
      const idp = createFakeIdp(clock);
      const service = await start({ refreshTokens: idp.refreshTokens, refreshAheadMs: 60_000 });
      const created = await service.create(aliceSignedIn(clock, 30_000));
      const sessions = await Promise.all(
        Array.from({ length: 20 }, () => service.authenticate(created.token)),
      );
      expect(idp.received).toEqual(['refresh-1']);
      for (const session of sessions) expect(session.record.tokens.accessToken).toBe('access-2');
      expect((await storedRecord(created.sessionId))?.tokens).toMatchObject({
        accessToken: 'access-2',
        refreshToken: 'refresh-2',
        // Not returned by the refresh, so kept (OpenID Connect Core §12.2).
        idToken: 'id-1',
      });
      await service.authenticate(created.token);
      expect(idp.received).toHaveLength(1);
    });

    it('refreshes once across two instances sharing a store', async () => {
      const { clock, start, storedRecord } = setUp();
      const idp = createFakeIdp(clock);
      const options = { refreshTokens: idp.refreshTokens, refreshAheadMs: 60_000 };
      const replicas = [await start(options), await start(options)];
      const created = await replicas[0]!.create(aliceSignedIn(clock, 30_000));
      await Promise.all(
        Array.from({ length: 20 }, (_, index) => replicas[index % 2]!.authenticate(created.token)),
      );
      expect(idp.received).toEqual(['refresh-1']);
      expect((await storedRecord(created.sessionId))?.tokens.refreshToken).toBe('refresh-2');
      // The instance that did not refresh picks up the new tokens instead of refreshing again.
      clock.advance(5000);
      for (const replica of replicas) {
        await expect(replica.authenticate(created.token)).resolves.toMatchObject({
          record: { tokens: { accessToken: 'access-2' } },
        });
      }
      expect(idp.received).toHaveLength(1);
    });

    it('does not refresh while the access token is far from expiry', async () => {
      const { clock, start } = setUp();
      const idp = createFakeIdp(clock);
      const service = await start({ refreshTokens: idp.refreshTokens, refreshAheadMs: 60_000 });
      const { token } = await service.create(aliceSignedIn(clock, 61_000));
      await service.authenticate(token);
      expect(idp.received).toEqual([]);
      clock.advance(1000);
      await service.authenticate(token);
      expect(idp.received).toEqual(['refresh-1']);
    });

    it('refreshes a 5-second access token halfway through, once, not on every request', async () => {
      const { clock, start, storedRecord } = setUp();
      const idp = createFakeIdp(clock, 5_000);
      const service = await start({ refreshTokens: idp.refreshTokens, cacheTtlMs: 1 });
      const created = await service.create(aliceSignedIn(clock, 5_000, clock.now()));
      for (let elapsed = 0; elapsed < 2_500; elapsed += 500) {
        await service.authenticate(created.token);
        clock.advance(500);
      }
      expect(idp.received).toEqual([]);
      // 2.5 s in: half the lifetime has passed.
      for (let request = 0; request < 5; request += 1) {
        await expect(service.authenticate(created.token)).resolves.toMatchObject({
          record: { tokens: { accessToken: 'access-2' } },
        });
        clock.advance(400);
      }
      expect(idp.received).toEqual(['refresh-1']);
      expect((await storedRecord(created.sessionId))?.tokens.accessTokenIssuedAt).toBe(clock.now() - 2_000);
      // Half of the new token's life has passed.
      clock.advance(500);
      await service.authenticate(created.token);
      expect(idp.received).toEqual(['refresh-1', 'refresh-2']);
    });

    it('refreshes an older record without the issue time by refreshAheadMs, then by the new token’s lifetime', async () => {
      const { clock, start } = setUp();
      const idp = createFakeIdp(clock, 5_000);
      const service = await start({ refreshTokens: idp.refreshTokens, cacheTtlMs: 1 });
      const created = await service.create(aliceSignedIn(clock, 5_000));
      await service.authenticate(created.token);
      expect(idp.received).toEqual(['refresh-1']);
      for (let request = 0; request < 5; request += 1) {
        clock.advance(400);
        await service.authenticate(created.token);
      }
      expect(idp.received).toEqual(['refresh-1']);
    });

    it('keeps the refresh token when the IdP does not rotate it (RFC 6749 §6)', async () => {
      const { clock, start, storedRecord } = setUp();
      const refreshTokens = () =>
        Promise.resolve({ accessToken: 'access-2', accessTokenExpiresAt: clock.now() + HOUR });
      const service = await start({ refreshTokens });
      const created = await service.create(aliceSignedIn(clock, 1000));
      await service.authenticate(created.token);
      expect((await storedRecord(created.sessionId))?.tokens).toEqual({
        idToken: 'id-1',
        idTokenExpiresAt: clock.now() + HOUR,
        accessToken: 'access-2',
        accessTokenExpiresAt: clock.now() + HOUR,
        refreshToken: 'refresh-1',
      });
    });

    it('ends the session everywhere when the IdP answers invalid_grant', async () => {
      const { clock, start, storedRecord } = setUp();
      const refreshTokens = vi.fn(() =>
        Promise.reject(new GatehouseError('ERR_IDP_GRANT_INVALID', 'the refresh token was revoked')),
      );
      const replicaA = await start({ refreshTokens, cacheTtlMs: HOUR });
      const replicaB = await start({ refreshTokens, cacheTtlMs: HOUR, refreshAheadMs: 0 });
      const created = await replicaA.create(aliceSignedIn(clock, 30_000));
      await replicaB.authenticate(created.token);
      await expect(replicaA.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
        status: 401,
      });
      expect(await storedRecord(created.sessionId)).toBeUndefined();
      await vi.waitFor(async () => {
        await expect(replicaB.authenticate(created.token)).rejects.toMatchObject({
          code: 'ERR_SESSION_EXPIRED',
        });
      });
      expect(refreshTokens).toHaveBeenCalledTimes(1);
    });

    it('keeps the session while its access token is valid when the refresh fails otherwise, and logs', async () => {
      const { clock, start, storedRecord } = setUp();
      const outage = new GatehouseError('ERR_UPSTREAM_UNAVAILABLE', 'the IdP did not answer');
      const refreshTokens = vi.fn(() => Promise.reject(outage));
      const logger = { warn: vi.fn() };
      const service = await start({ refreshTokens, logger });
      const created = await service.create(aliceSignedIn(clock, 30_000));
      await expect(service.authenticate(created.token)).resolves.toMatchObject({
        record: { tokens: { accessToken: 'access-1' } },
      });
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: outage, sessionId: created.sessionId }),
        expect.any(String),
      );
      clock.advance(30_000);
      await expect(service.authenticate(created.token)).rejects.toBe(outage);
      expect(await storedRecord(created.sessionId)).toBeDefined();
    });

    it('renews the lease while the IdP call runs', async () => {
      const { clock, memory, start } = setUp();
      const answer = deferred<IdpTokens>();
      const service = await start({ refreshTokens: () => answer.promise, refreshLeaseTtlMs: 30 });
      const created = await service.create(aliceSignedIn(clock, 1000));
      const authenticating = service.authenticate(created.token);
      // Renewals run every 10 ms of real time; the lease's expiry follows the fake clock.
      for (let step = 0; step < 4; step += 1) {
        clock.advance(20);
        await sleep(25);
      }
      expect(await memory.acquireLease(`refresh:${created.sessionId}`, 1000)).toBeUndefined();
      answer.resolve({ accessToken: 'access-2', accessTokenExpiresAt: clock.now() + HOUR });
      await authenticating;
      const released = await memory.acquireLease(`refresh:${created.sessionId}`, 1000);
      expect(released).toBeDefined();
    });

    it('does not bring back a session signed out while its refresh ran', async () => {
      const { clock, start, storedRecord } = setUp();
      const answer = deferred<IdpTokens>();
      const refreshTokens = vi.fn(() => answer.promise);
      const service = await start({ refreshTokens });
      const created = await service.create(aliceSignedIn(clock, 1000));
      const authenticating = service.authenticate(created.token);
      await vi.waitFor(() => {
        expect(refreshTokens).toHaveBeenCalled();
      });
      await service.revoke(created.sessionId);
      answer.resolve({ accessToken: 'access-2', accessTokenExpiresAt: clock.now() + HOUR });
      await expect(authenticating).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
      expect(await storedRecord(created.sessionId)).toBeUndefined();
    });

    it('waits for the other process once the access token has expired, instead of refreshing again', async () => {
      const { clock, memory, start } = setUp();
      const idp = createFakeIdp(clock);
      const service = await start({ refreshTokens: idp.refreshTokens });
      const created = await service.create(aliceSignedIn(clock, 1000));
      const otherProcessLease = await memory.acquireLease(`refresh:${created.sessionId}`, 60_000);
      clock.advance(1000);
      const authenticating = service.authenticate(created.token);
      await sleep(150);
      const stored = await memory.get(`session:${created.sessionId}`);
      const record = openSessionRecord(stored!, keys.sessionRecord, created.sessionId);
      const refreshed: SessionRecord = {
        ...record,
        tokens: { accessToken: 'access-from-elsewhere', accessTokenExpiresAt: clock.now() + HOUR },
      };
      await memory.set(
        `session:${created.sessionId}`,
        sealSessionRecord(refreshed, keys.sessionRecord.current, created.sessionId),
        HOUR,
      );
      await expect(authenticating).resolves.toMatchObject({
        record: { tokens: { accessToken: 'access-from-elsewhere' } },
      });
      expect(idp.received).toEqual([]);
      await otherProcessLease?.release();
    });

    it('proceeds with a still-valid access token while another process holds the lease', async () => {
      const { clock, memory, start } = setUp();
      const idp = createFakeIdp(clock);
      const service = await start({ refreshTokens: idp.refreshTokens });
      const created = await service.create(aliceSignedIn(clock, 30_000));
      await memory.acquireLease(`refresh:${created.sessionId}`, 60_000);
      await expect(service.authenticate(created.token)).resolves.toMatchObject({
        record: { tokens: { accessToken: 'access-1' } },
      });
      expect(idp.received).toEqual([]);
    });
  });

  describe('store outage', () => {
    it('keeps cached sessions working until their entry expires; others get ERR_STORE_UNAVAILABLE', async () => {
      const { clock, store, start } = setUp();
      const service = await start({ cacheTtlMs: 3000 });
      const cached = await service.create(aliceSignedIn(clock));
      const uncached = await service.create(aliceSignedIn(clock));
      await service.authenticate(cached.token);
      store.isDown = true;
      await expect(service.authenticate(cached.token)).resolves.toMatchObject({ id: cached.sessionId });
      await expect(service.authenticate(uncached.token)).rejects.toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
        status: 503,
      });
      clock.advance(3000);
      await expect(service.authenticate(cached.token)).rejects.toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
      });
      store.isDown = false;
      await expect(service.authenticate(uncached.token)).resolves.toMatchObject({ id: uncached.sessionId });
    });

    it('serves a cached session that is due for refresh while the store is down', async () => {
      const { clock, store, start } = setUp();
      const idp = createFakeIdp(clock);
      const service = await start({ refreshTokens: idp.refreshTokens, refreshAheadMs: 10_000 });
      const created = await service.create(aliceSignedIn(clock, 11_000));
      await service.authenticate(created.token);
      store.isDown = true;
      clock.advance(2000);
      await expect(service.authenticate(created.token)).resolves.toMatchObject({ id: created.sessionId });
      expect(idp.received).toEqual([]);
    });
  });
});
