/**
 * The embedded store for a single process. Expiry follows the injected clock's monotonic time: an expired
 * entry is dropped when it is next touched, and a periodic sweep drops the ones nobody touches again, so
 * abandoned login transactions do not accumulate. Pub/sub stays inside the process.
 */
import type { Clock } from '../shared/clock.js';
import { assertTtl, newLeaseToken, storeClosedError, type KvStore, type Lease } from './kv-store.js';

export interface MemoryStoreOptions {
  clock: Clock;
  /** How often expired entries nobody reads again are dropped; default one minute. */
  sweepIntervalMs?: number;
}

interface Entry {
  readonly value: Uint8Array;
  expiresAt: number;
}

type MessageHandler = (message: string) => void;

const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export class MemoryStore implements KvStore {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #subscribers = new Map<string, Set<MessageHandler>>();
  readonly #sweepTimer: NodeJS.Timeout;
  #isClosed = false;

  constructor(options: MemoryStoreOptions) {
    this.#clock = options.clock;
    this.#sweepTimer = setInterval(() => {
      this.#sweep();
    }, options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    // The sweep is housekeeping; it must never keep the process alive on its own.
    this.#sweepTimer.unref();
  }

  /** Number of entries held, expired ones included until they are dropped; for tests of the sweep. */
  get size(): number {
    return this.#entries.size;
  }

  set(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    return this.#run(() => {
      assertTtl(ttlMs);
      this.#write(key, value, ttlMs);
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run(() => {
      const entry = this.#live(key);
      return entry === undefined ? undefined : new Uint8Array(entry.value);
    });
  }

  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run(() => {
      const entry = this.#live(key);
      this.#entries.delete(key);
      return entry?.value;
    });
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => {
      const existed = this.#live(key) !== undefined;
      this.#entries.delete(key);
      return existed;
    });
  }

  setIfAbsent(key: string, value: Uint8Array, ttlMs: number): Promise<boolean> {
    return this.#run(() => {
      assertTtl(ttlMs);
      if (this.#live(key) !== undefined) return false;
      this.#write(key, value, ttlMs);
      return true;
    });
  }

  replaceIf(key: string, expected: Uint8Array, next: Uint8Array, ttlMs: number): Promise<boolean> {
    return this.#run(() => {
      assertTtl(ttlMs);
      const entry = this.#live(key);
      if (entry === undefined || !Buffer.from(expected).equals(entry.value)) return false;
      this.#write(key, next, ttlMs);
      return true;
    });
  }

  async acquireLease(key: string, ttlMs: number): Promise<Lease | undefined> {
    const token = newLeaseToken();
    const tokenBytes = Buffer.from(token);
    if (!(await this.setIfAbsent(key, tokenBytes, ttlMs))) return undefined;
    const heldEntry = (): Entry | undefined => {
      const entry = this.#live(key);
      return entry !== undefined && tokenBytes.equals(entry.value) ? entry : undefined;
    };
    return {
      token,
      renew: (renewTtlMs) =>
        this.#run(() => {
          assertTtl(renewTtlMs);
          const entry = heldEntry();
          if (entry === undefined) return false;
          entry.expiresAt = this.#clock.monotonic() + renewTtlMs;
          return true;
        }),
      release: () =>
        this.#run(() => {
          if (heldEntry() !== undefined) this.#entries.delete(key);
        }),
    };
  }

  publish(channel: string, message: string): Promise<void> {
    return this.#run(() => {
      for (const handler of this.#subscribers.get(channel) ?? []) {
        // Asynchronous like Redis delivery, and one handler's exception cannot starve the others.
        queueMicrotask(() => {
          handler(message);
        });
      }
    });
  }

  subscribe(channel: string, onMessage: MessageHandler): Promise<() => Promise<void>> {
    return this.#run(() => {
      // Wrapped so the same function subscribed twice is two subscriptions, each ended on its own.
      const handler: MessageHandler = (message) => {
        onMessage(message);
      };
      const handlers = this.#subscribers.get(channel) ?? new Set<MessageHandler>();
      handlers.add(handler);
      this.#subscribers.set(channel, handlers);
      return () => {
        handlers.delete(handler);
        if (handlers.size === 0 && this.#subscribers.get(channel) === handlers) {
          this.#subscribers.delete(channel);
        }
        return Promise.resolve();
      };
    });
  }

  ping(): Promise<void> {
    return this.#run(() => undefined);
  }

  close(): Promise<void> {
    this.#isClosed = true;
    clearInterval(this.#sweepTimer);
    this.#entries.clear();
    this.#subscribers.clear();
    return Promise.resolve();
  }

  /** Runs one operation on an open store; a throw becomes a rejection, as from any other store. */
  #run<T>(operation: () => T): Promise<T> {
    return new Promise((resolve) => {
      if (this.#isClosed) throw storeClosedError();
      resolve(operation());
    });
  }

  /** Copies the value in, so a caller reusing its buffer cannot change what is stored. */
  #write(key: string, value: Uint8Array, ttlMs: number): void {
    this.#entries.set(key, { value: new Uint8Array(value), expiresAt: this.#clock.monotonic() + ttlMs });
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#clock.monotonic()) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #sweep(): void {
    const now = this.#clock.monotonic();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
