/**
 * The session service on the real Redis: several service instances, each with its own store connection,
 * stand for several Gatehouse processes or replicas sharing one Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { deriveAuthKeys } from '../../src/auth/secrets.js';
import type { IdpTokens } from '../../src/auth/session-record.js';
import {
  createSessionService,
  type NewSession,
  type SessionService,
  type SessionServiceOptions,
} from '../../src/auth/session-service.js';
import { systemClock } from '../../src/shared/clock.js';
import { createStore } from '../../src/store/create-store.js';
import type { KvStore } from '../../src/store/kv-store.js';
import {
  SHARED_REDIS_URL,
  assertSharedRedisUp,
  deleteKeysWithPrefix,
  startPrivateRedis,
  uniqueKeyPrefix,
  type PrivateRedis,
} from '../harness/redis.js';

const keyPrefix = uniqueKeyPrefix();
const keys = deriveAuthKeys({
  sharedSecret: new Uint8Array(32).fill(1),
  previousSharedSecrets: [],
  cookieSecret: new Uint8Array(32).fill(2),
});
/** Long enough that only a revocation message can explain a replica refusing a cached session in time. */
const LONG_CACHE_TTL_MS = 60_000;
/** DESIGN §3: a sign-out on one replica is honoured by every replica within one second. */
const REVOCATION_DEADLINE = { timeout: 1000, interval: 10 };

function signIn(accessTokenLifetimeMs = 3_600_000): NewSession {
  return {
    userId: 'alice-sub',
    email: 'alice@example.com',
    groups: [],
    claims: { sub: 'alice-sub' },
    tokens: {
      accessToken: 'access-1',
      accessTokenExpiresAt: Date.now() + accessTokenLifetimeMs,
      refreshToken: 'refresh-1',
    },
  };
}

beforeAll(async () => {
  await assertSharedRedisUp();
});

afterAll(async () => {
  await deleteKeysWithPrefix(keyPrefix);
});

describe('SessionService on Redis', () => {
  const services: SessionService[] = [];
  const stores: KvStore[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  /** One replica: its own Redis connections and its own service. */
  async function startReplica(
    options: Partial<SessionServiceOptions> = {},
    connectionString = SHARED_REDIS_URL,
  ): Promise<SessionService> {
    const store = await createStore({ type: 'redis', connectionString, keyPrefix, clock: systemClock });
    stores.push(store);
    const service = await createSessionService({ store, keys, clock: systemClock, ...options });
    services.push(service);
    return service;
  }

  it('honours a session on another replica and its sign-out there within one second', async () => {
    const replicaA = await startReplica({ cacheTtlMs: LONG_CACHE_TTL_MS });
    const replicaB = await startReplica({ cacheTtlMs: LONG_CACHE_TTL_MS });
    const created = await replicaA.create(signIn());
    await expect(replicaB.authenticate(created.token)).resolves.toMatchObject({ id: created.sessionId });

    const signedOutAt = performance.now();
    await replicaA.revoke(created.sessionId);
    await vi.waitFor(async () => {
      await expect(replicaB.authenticate(created.token)).rejects.toMatchObject({
        code: 'ERR_SESSION_EXPIRED',
      });
    }, REVOCATION_DEADLINE);
    expect(performance.now() - signedOutAt).toBeLessThan(1000);
    await expect(replicaA.authenticate(created.token)).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
  });

  it('refreshes exactly once for 20 concurrent requests spread over two replicas', async () => {
    const received: string[] = [];
    const refreshTokens = async (refreshToken: string): Promise<IdpTokens> => {
      received.push(refreshToken);
      await sleep(100);
      return {
        accessToken: 'access-2',
        accessTokenExpiresAt: Date.now() + 3_600_000,
        refreshToken: 'refresh-2',
      };
    };
    const options = { refreshTokens, refreshAheadMs: 60_000 };
    const replicas = [await startReplica(options), await startReplica(options)];
    const created = await replicas[0]!.create(signIn(30_000));

    const sessions = await Promise.all(
      Array.from({ length: 20 }, (_, index) => replicas[index % 2]!.authenticate(created.token)),
    );
    expect(received).toEqual(['refresh-1']);
    for (const session of sessions) {
      // Requests on the replica without the lease go ahead with the still-valid access token.
      expect(['access-1', 'access-2']).toContain(session.record.tokens.accessToken);
    }
    // A replica that has not seen this session reads the rotated tokens from Redis.
    const newcomer = await startReplica(options);
    await expect(newcomer.authenticate(created.token)).resolves.toMatchObject({
      record: { tokens: { accessToken: 'access-2', refreshToken: 'refresh-2' } },
    });
    expect(received).toHaveLength(1);
  });

  describe('through a Redis outage', () => {
    let redis: PrivateRedis;
    beforeAll(async () => {
      redis = await startPrivateRedis();
    });
    afterAll(async () => {
      await redis.stop();
    });

    it('keeps cached sessions, answers 503 for the others, and recovers by itself', async () => {
      const replicaA = await startReplica({ cacheTtlMs: LONG_CACHE_TTL_MS }, redis.connectionString);
      const replicaB = await startReplica({ cacheTtlMs: LONG_CACHE_TTL_MS }, redis.connectionString);
      const cached = await replicaA.create(signIn());
      const uncached = await replicaA.create(signIn());
      await replicaA.authenticate(cached.token);

      await redis.stop();
      await expect(replicaA.authenticate(cached.token)).resolves.toMatchObject({ id: cached.sessionId });
      const startedAt = performance.now();
      await expect(replicaA.authenticate(uncached.token)).rejects.toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
        status: 503,
      });
      expect(performance.now() - startedAt).toBeLessThan(1000);

      // The restarted Redis kept nothing (no persistence): new sign-ins, and sign-outs across replicas,
      // work again once the connections are back, without anyone restarting the services.
      await redis.start();
      await vi.waitFor(
        async () => {
          const created = await replicaA.create(signIn());
          await replicaB.authenticate(created.token);
          await replicaA.revoke(created.sessionId);
          await vi.waitFor(async () => {
            await expect(replicaB.authenticate(created.token)).rejects.toMatchObject({
              code: 'ERR_SESSION_EXPIRED',
            });
          }, REVOCATION_DEADLINE);
        },
        { timeout: 10_000, interval: 200 },
      );
    });
  });
});
