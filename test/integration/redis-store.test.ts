import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/shared/clock.js';
import { GatehouseError } from '../../src/shared/errors.js';
import { createStore } from '../../src/store/create-store.js';
import type { KvStore } from '../../src/store/kv-store.js';
import { describeKvStoreContract } from '../contracts/kv-store.contract.js';
import {
  SHARED_REDIS,
  SHARED_REDIS_URL,
  assertSharedRedisUp,
  deleteKeysWithPrefix,
  startPrivateCluster,
  startPrivateRedis,
  startPrivateSentinel,
  uniqueKeyPrefix,
  type PrivateRedis,
  type PrivateTopology,
} from '../harness/redis.js';

const run = promisify(execFile);
const keyPrefix = uniqueKeyPrefix();

function openSharedStore(): Promise<KvStore> {
  return createStore({ type: 'redis', connectionString: SHARED_REDIS_URL, keyPrefix, clock: systemClock });
}

async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', [
    '-h',
    SHARED_REDIS.host,
    '-p',
    String(SHARED_REDIS.port),
    ...args,
  ]);
  return stdout.trim();
}

beforeAll(async () => {
  await assertSharedRedisUp();
});

afterAll(async () => {
  await deleteKeysWithPrefix(keyPrefix);
});

describeKvStoreContract('RedisStore', openSharedStore, { isShared: true });

describe('RedisStore through Sentinel', () => {
  let sentinel: PrivateTopology;
  beforeAll(async () => {
    sentinel = await startPrivateSentinel('sentinel test p@ss');
  });
  afterAll(async () => {
    await sentinel.stop();
  });

  describeKvStoreContract(
    'RedisStore (redis+sentinel://)',
    () =>
      createStore({
        type: 'redis',
        connectionString: sentinel.connectionString,
        keyPrefix,
        clock: systemClock,
      }),
    { isShared: true },
  );
});

describe('RedisStore on a Redis Cluster', () => {
  let cluster: PrivateTopology;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  describeKvStoreContract(
    'RedisStore (redis+cluster://)',
    () =>
      createStore({
        type: 'redis',
        connectionString: cluster.connectionString,
        keyPrefix,
        clock: systemClock,
      }),
    { isShared: true },
  );
});

describe('RedisStore on the shared Redis', () => {
  const stores: KvStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('keeps every key under its prefix, with the TTL set in Redis', async () => {
    const store = await openSharedStore();
    stores.push(store);
    await store.set('session:abc', new Uint8Array([1, 2, 3]), 60_000);
    expect(await redisCli('EXISTS', 'session:abc')).toBe('0');
    expect(await redisCli('EXISTS', `${keyPrefix}session:abc`)).toBe('1');
    const ttl = Number(await redisCli('PTTL', `${keyPrefix}session:abc`));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('does not see values stored under another prefix', async () => {
    const store = await openSharedStore();
    const other = await createStore({
      type: 'redis',
      connectionString: SHARED_REDIS_URL,
      keyPrefix: `${keyPrefix}other:`,
      clock: systemClock,
    });
    stores.push(store, other);
    await store.set('shared-name', new Uint8Array([1]), 60_000);
    expect(await other.get('shared-name')).toBeUndefined();
  });
});

describe('RedisStore when Redis cannot be reached', () => {
  it('refuses to open, quickly, with ERR_STORE_UNAVAILABLE and no password in the message', async () => {
    const redis = await startPrivateRedis();
    await redis.stop();
    const startedAt = performance.now();
    const opening = createStore({
      type: 'redis',
      connectionString: `redis://:hunter2-secret@127.0.0.1:${redis.port}/0`,
      keyPrefix,
      clock: systemClock,
    });
    await expect(opening).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
      status: 503,
      expose: false,
    });
    const error: unknown = await opening.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(GatehouseError);
    const { message, cause } = error as GatehouseError;
    expect(message).toContain(`127.0.0.1:${redis.port}`);
    expect(message).not.toContain('hunter2');
    expect(cause).toBeInstanceOf(Error);
    expect(performance.now() - startedAt).toBeLessThan(1000);
  });
});

describe('RedisStore against a Redis that stops answering', () => {
  it('fails a call after the command timeout instead of waiting, and works again once Redis answers', async () => {
    const redis = await startPrivateRedis();
    const store = await createStore({
      type: 'redis',
      connectionString: redis.connectionString,
      keyPrefix,
      clock: systemClock,
    });
    try {
      redis.freeze();
      const startedAt = performance.now();
      await expect(store.get('anything')).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
      expect(performance.now() - startedAt).toBeLessThan(2000);
      redis.thaw();
      await store.set('after-thaw', new Uint8Array([7]), 60_000);
      expect(await store.get('after-thaw')).toEqual(new Uint8Array([7]));
    } finally {
      redis.thaw();
      await store.close();
      await redis.stop();
    }
  });
});

describe('RedisStore through a Redis outage', () => {
  let redis: PrivateRedis;
  let store: KvStore;
  const connectionErrors: Error[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    store = await createStore({
      type: 'redis',
      connectionString: redis.connectionString,
      keyPrefix,
      clock: systemClock,
      onConnectionError: (error) => connectionErrors.push(error),
    });
  });

  afterAll(async () => {
    await store.close();
    await redis.stop();
  });

  it('fails every call fast with ERR_STORE_UNAVAILABLE while Redis is down, then recovers by itself', async () => {
    const revocations: string[] = [];
    await store.subscribe('revocations', (message) => revocations.push(message));
    await store.set('before', new Uint8Array([1]), 60_000);

    await redis.stop();
    const calls: Record<string, () => Promise<unknown>> = {
      set: () => store.set('k', new Uint8Array([1]), 1000),
      get: () => store.get('before'),
      take: () => store.take('before'),
      delete: () => store.delete('before'),
      setIfAbsent: () => store.setIfAbsent('k', new Uint8Array([1]), 1000),
      replaceIf: () => store.replaceIf('k', new Uint8Array([1]), new Uint8Array([2]), 1000),
      acquireLease: () => store.acquireLease('lease', 1000),
      publish: () => store.publish('revocations', 'lost'),
      subscribe: () => store.subscribe('another-channel', () => undefined),
      ping: () => store.ping(),
    };
    for (const [name, call] of Object.entries(calls)) {
      const startedAt = performance.now();
      const outcome = await call().then(
        () => 'resolved',
        (error: unknown) => error,
      );
      expect(outcome, name).toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
        status: 503,
        headers: { 'Retry-After': '1' },
      });
      expect((outcome as Error).cause, name).toBeDefined();
      expect(performance.now() - startedAt, name).toBeLessThan(1000);
    }
    // Failed reconnection attempts are reported, not thrown as unhandled 'error' events.
    await vi.waitFor(
      () => {
        expect(connectionErrors.length).toBeGreaterThan(0);
      },
      { timeout: 2000, interval: 50 },
    );

    await redis.start();
    await vi.waitFor(() => store.ping(), { timeout: 5000, interval: 100 });
    await store.set('after', new Uint8Array([2]), 60_000);
    expect(await store.get('after')).toEqual(new Uint8Array([2]));
    // The subscriber connection reconnects on its own schedule and subscribes again.
    await vi.waitFor(
      async () => {
        await store.publish('revocations', 'after-restart');
        expect(revocations).toContain('after-restart');
      },
      { timeout: 5000, interval: 100 },
    );
  });
});
