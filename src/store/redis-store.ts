/**
 * The shared store: one Redis (standalone, behind Sentinel, or a Cluster) used by every Gatehouse process.
 * The only importer of ioredis.
 *
 * Failure behaviour is the point of most options here. When Redis is unreachable, a call must fail at once
 * with ERR_STORE_UNAVAILABLE (a 503 for the request that needed it) rather than wait in a queue while
 * requests pile up: no offline queue, commands in flight when the connection drops are rejected instead of
 * resent (a resent GETDEL could hand a single-use value to nobody), and a command timeout catches a
 * connection that went silent. Meanwhile ioredis reconnects on its own with a capped backoff, so the store
 * recovers without anyone restarting it. Its 'error' events, which would otherwise crash the process, go to
 * `onConnectionError`.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { GatehouseError } from '../shared/errors.js';
import { assertTtl, newLeaseToken, storeClosedError, type KvStore, type Lease } from './kv-store.js';
import { describeRedisTarget, type RedisTarget } from './redis-url.js';

export interface RedisStoreOptions {
  target: RedisTarget;
  /** Prepended to every key and channel, so several deployments (or test runs) can share one Redis. */
  keyPrefix: string;
  /** A command without an answer after this long fails; default 1000 ms. */
  commandTimeoutMs?: number;
  /** A connection attempt without an answer after this long fails; default 2000 ms. */
  connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts while Redis is down; default 1000 ms. */
  maxReconnectDelayMs?: number;
  /** Told about each connection problem; they repeat at every reconnection attempt while Redis is down. */
  onConnectionError?: (error: Error) => void;
}

type RedisClient = Redis | Cluster;
type MessageHandler = (message: string) => void;

interface Subscription {
  readonly handlers: Set<MessageHandler>;
  /** Settles when Redis has confirmed the SUBSCRIBE. */
  readonly confirmed: Promise<void>;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 1000;

// Lua scripts run atomically on the server (https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/):
// each compares the current value and acts in one step, so no other client can slip in between.
const RENEW_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const REPLACE_IF_EQUAL = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;

/** Connects to Redis and resolves once it answers; rejects with ERR_STORE_UNAVAILABLE when it cannot. */
export async function openRedisStore(options: RedisStoreOptions): Promise<KvStore> {
  const client = createClient(options);
  // connect() only says "Connection is closed."; the 'error' event before it says why.
  let connectionError: unknown;
  const rememberError = (error: Error): void => {
    connectionError = error;
  };
  client.on('error', rememberError);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw unavailable(connectionError ?? error, `cannot reach ${describeRedisTarget(options.target)}`);
  } finally {
    client.off('error', rememberError);
  }
  return new RedisStore(client, options);
}

class RedisStore implements KvStore {
  readonly #client: RedisClient;
  readonly #options: RedisStoreOptions;
  readonly #prefix: string;
  readonly #subscriptions = new Map<string, Subscription>();
  #subscriber: Promise<RedisClient> | undefined;
  #isClosed = false;

  constructor(client: RedisClient, options: RedisStoreOptions) {
    this.#client = client;
    this.#options = options;
    this.#prefix = options.keyPrefix;
  }

  async set(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    return this.#run(async (redis) => {
      await redis.set(this.#key(key), toBuffer(value), 'PX', ttlMs);
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run(async (redis) => toBytes(await redis.getBuffer(this.#key(key))));
  }

  /** GETDEL (Redis 6.2+) reads and deletes in one command. */
  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run(async (redis) => toBytes(await redis.getdelBuffer(this.#key(key))));
  }

  delete(key: string): Promise<boolean> {
    return this.#run(async (redis) => (await redis.del(this.#key(key))) > 0);
  }

  async setIfAbsent(key: string, value: Uint8Array, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return this.#run(
      async (redis) => (await redis.set(this.#key(key), toBuffer(value), 'PX', ttlMs, 'NX')) === 'OK',
    );
  }

  async replaceIf(key: string, expected: Uint8Array, next: Uint8Array, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return this.#run(
      async (redis) =>
        (await redis.eval(REPLACE_IF_EQUAL, 1, this.#key(key), toBuffer(expected), toBuffer(next), ttlMs)) ===
        1,
    );
  }

  async acquireLease(key: string, ttlMs: number): Promise<Lease | undefined> {
    const token = newLeaseToken();
    if (!(await this.setIfAbsent(key, Buffer.from(token), ttlMs))) return undefined;
    const redisKey = this.#key(key);
    return {
      token,
      renew: async (renewTtlMs) => {
        assertTtl(renewTtlMs);
        return this.#run(
          async (redis) => (await redis.eval(RENEW_IF_HELD, 1, redisKey, token, renewTtlMs)) === 1,
        );
      },
      release: () =>
        this.#run(async (redis) => {
          await redis.eval(RELEASE_IF_HELD, 1, redisKey, token);
        }),
    };
  }

  publish(channel: string, message: string): Promise<void> {
    return this.#run(async (redis) => {
      await redis.publish(this.#key(channel), message);
    });
  }

  async subscribe(channel: string, onMessage: MessageHandler): Promise<() => Promise<void>> {
    if (this.#isClosed) throw storeClosedError();
    const redisChannel = this.#key(channel);
    // Wrapped so the same function subscribed twice is two subscriptions, each ended on its own.
    const handler: MessageHandler = (message) => {
      onMessage(message);
    };
    const subscription = this.#subscriptions.get(redisChannel) ?? this.#startSubscription(redisChannel);
    subscription.handlers.add(handler);
    try {
      await subscription.confirmed;
    } catch (error) {
      subscription.handlers.delete(handler);
      throw error;
    }
    // Ending a subscription stops delivery at once and never fails: if Redis cannot be told, a channel
    // nobody listens to any more is harmless.
    return async () => {
      subscription.handlers.delete(handler);
      if (subscription.handlers.size > 0 || this.#subscriptions.get(redisChannel) !== subscription) return;
      this.#subscriptions.delete(redisChannel);
      if (this.#isClosed) return;
      try {
        await (await this.#connectSubscriber()).unsubscribe(redisChannel);
      } catch {
        // Delivery has already stopped; see above.
      }
    };
  }

  ping(): Promise<void> {
    return this.#run(async (redis) => {
      await redis.ping();
    });
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#subscriptions.clear();
    const subscriber = this.#subscriber?.catch(() => undefined);
    await Promise.all([
      closeClient(this.#client),
      subscriber?.then((client) => client && closeClient(client)),
    ]);
  }

  #key(name: string): string {
    return this.#prefix + name;
  }

  async #run<T>(operation: (redis: RedisClient) => Promise<T>): Promise<T> {
    if (this.#isClosed) throw storeClosedError();
    try {
      return await operation(this.#client);
    } catch (error) {
      throw unavailable(error);
    }
  }

  #startSubscription(redisChannel: string): Subscription {
    const subscription: Subscription = {
      handlers: new Set(),
      confirmed: this.#connectSubscriber().then(async (subscriber) => {
        try {
          await subscriber.subscribe(redisChannel);
        } catch (error) {
          throw unavailable(error);
        }
      }),
    };
    this.#subscriptions.set(redisChannel, subscription);
    subscription.confirmed.catch(() => {
      if (this.#subscriptions.get(redisChannel) === subscription) this.#subscriptions.delete(redisChannel);
    });
    return subscription;
  }

  /**
   * Pub/sub needs its own connection: a RESP2 connection in subscriber mode can run no other command.
   * Opened on first use; ioredis subscribes it again to every channel after a reconnect.
   */
  #connectSubscriber(): Promise<RedisClient> {
    this.#subscriber ??= openSubscriber(this.#client, this.#options, (channel, message) => {
      for (const handler of this.#subscriptions.get(channel)?.handlers ?? []) {
        // Off ioredis's parser, and one handler's exception cannot starve the others.
        queueMicrotask(() => {
          handler(message);
        });
      }
    }).catch((error: unknown) => {
      this.#subscriber = undefined;
      throw unavailable(error);
    });
    return this.#subscriber;
  }
}

async function openSubscriber(
  client: RedisClient,
  options: RedisStoreOptions,
  deliver: (channel: string, message: string) => void,
): Promise<RedisClient> {
  // Same connection options; two calls because TypeScript cannot call a method on the union of both.
  const subscriber: RedisClient = client instanceof Cluster ? client.duplicate() : client.duplicate();
  reportErrors(subscriber, options);
  subscriber.on('message', deliver);
  try {
    await subscriber.connect();
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  return subscriber;
}

function createClient(options: RedisStoreOptions): RedisClient {
  const { target } = options;
  const connection = {
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
  } satisfies RedisOptions;
  const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
  // Exponential from 100 ms, capped; the jitter keeps many replicas from reconnecting in lockstep.
  const reconnectDelay = (attempt: number): number =>
    Math.min(50 * 2 ** attempt, maxDelay) + Math.floor(Math.random() * 50);

  let client: RedisClient;
  switch (target.mode) {
    case 'standalone':
      client = new Redis({
        ...connection,
        host: target.address.host,
        port: target.address.port,
        db: target.db,
        lazyConnect: true,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
      });
      break;
    case 'sentinel':
      client = new Redis({
        ...connection,
        sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
        name: target.masterName,
        db: target.db,
        ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        lazyConnect: true,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
      });
      break;
    case 'cluster':
      client = new Cluster(
        target.nodes.map(({ host, port }) => ({ host, port })),
        {
          redisOptions: connection,
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: reconnectDelay,
        } satisfies ClusterOptions,
      );
      break;
  }
  reportErrors(client, options);
  return client;
}

/** An 'error' event nobody listens to is rethrown by EventEmitter and ends the process. */
function reportErrors(client: RedisClient, options: RedisStoreOptions): void {
  const report = (error: Error): void => {
    options.onConnectionError?.(error);
  };
  client.on('error', report);
  if (client instanceof Cluster) client.on('node error', report);
}

async function closeClient(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    // Redis is unreachable, so there is nothing to say goodbye to; disconnect below stops the reconnecting.
  } finally {
    client.disconnect();
  }
}

function unavailable(cause: unknown, context = 'the session store is unavailable'): GatehouseError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  // RFC 9110 §10.2.3: a 503 may say when to try again; reconnection attempts are at most a second apart.
  return new GatehouseError('ERR_STORE_UNAVAILABLE', `${context}: ${reason}`, {
    cause,
    headers: { 'Retry-After': '1' },
  });
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** A copy as a plain Uint8Array: the type the interface promises, not a view into ioredis's read buffer. */
function toBytes(value: Buffer | null): Uint8Array | undefined {
  return value === null ? undefined : new Uint8Array(value);
}
