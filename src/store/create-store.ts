/** Builds the store `databroker_storage_type` and `databroker_storage_connection_string` describe. */
import type { Clock } from '../shared/clock.js';
import { GatehouseError } from '../shared/errors.js';
import type { KvStore } from './kv-store.js';
import { MemoryStore } from './memory-store.js';
import { parseRedisConnectionString } from './redis-url.js';

export type StoreType = 'memory' | 'redis';

export interface CreateStoreOptions {
  type: StoreType;
  /** Required for `redis`; see redis-url.ts for the accepted forms. */
  connectionString?: string;
  /** Prepended to every Redis key and channel (the memory store is private to its process). */
  keyPrefix: string;
  clock: Clock;
  /** Told about each Redis connection problem, for the log; they repeat while Redis is down. */
  onConnectionError?: (error: Error) => void;
}

/**
 * Resolves once the store answers. A bad connection string is ERR_CONFIG_INVALID; an unreachable Redis is
 * ERR_STORE_UNAVAILABLE (with the password redacted from the message).
 */
export async function createStore(options: CreateStoreOptions): Promise<KvStore> {
  switch (options.type) {
    case 'memory':
      return new MemoryStore({ clock: options.clock });
    case 'redis': {
      if (options.connectionString === undefined || options.connectionString === '') {
        throw new GatehouseError(
          'ERR_CONFIG_INVALID',
          'databroker_storage_connection_string: required when databroker_storage_type is redis',
        );
      }
      // ioredis is loaded only for a Redis store: it is a large part of an idle process's memory.
      const { openRedisStore } = await import('./redis-store.js');
      return openRedisStore({
        target: parseRedisConnectionString(options.connectionString),
        keyPrefix: options.keyPrefix,
        ...(options.onConnectionError === undefined ? {} : { onConnectionError: options.onConnectionError }),
      });
    }
  }
}
