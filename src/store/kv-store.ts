/**
 * The storage interface behind sessions, login transactions, hand-off codes and refresh leases. Values are
 * opaque bytes (callers encrypt before storing), every value has a TTL so nothing lives forever, and each
 * operation that must be atomic across processes is one call here — never a read followed by a write.
 * Implementations: memory-store.ts (one process) and redis-store.ts (shared by every process and replica).
 */
import { randomBytes } from 'node:crypto';

export interface KvStore {
  /** Stores bytes under a key for `ttlMs` milliseconds, replacing any value and its TTL. */
  set(key: string, value: Uint8Array, ttlMs: number): Promise<void>;
  /** The value under a key, or undefined when absent or expired. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Reads and deletes atomically: of several concurrent takes, exactly one gets the value. */
  take(key: string): Promise<Uint8Array | undefined>;
  /** Deletes a key; true when there was a value to delete. */
  delete(key: string): Promise<boolean>;
  /** Stores only when the key is absent (Redis `SET NX PX`); true when this call stored it. */
  setIfAbsent(key: string, value: Uint8Array, ttlMs: number): Promise<boolean>;
  /**
   * Compare-and-set: stores `next` (with a fresh TTL) only while the current value equals `expected` byte
   * for byte; true when replaced. For atomic refresh-token rotation.
   */
  replaceIf(key: string, expected: Uint8Array, next: Uint8Array, ttlMs: number): Promise<boolean>;
  /** Takes the lease named by `key` for `ttlMs`, or undefined while someone else holds it. */
  acquireLease(key: string, ttlMs: number): Promise<Lease | undefined>;
  /** Sends a message to every subscriber of the channel in every process, this one included. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `onMessage` for each message on the channel from now on; resolves once subscribed, with the
   * function that ends this subscription (delivery stops at once; it never rejects). Each call happens in
   * its own microtask, so `onMessage` must not throw. Delivery is at most once: messages sent while the
   * connection is down are lost, so callers keep whatever they cache short-lived.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the store answers; for readiness checks. */
  ping(): Promise<void>;
  /** Releases connections and timers. Idempotent; any other call afterwards is a TypeError. */
  close(): Promise<void>;
}

/** A time-limited exclusive claim, held by whoever knows its random token. */
export interface Lease {
  readonly token: string;
  /** Extends the lease to `ttlMs` from now; false when it has expired or passed to another holder. */
  renew(ttlMs: number): Promise<boolean>;
  /** Ends the lease if this holder still has it; does nothing otherwise. */
  release(): Promise<void>;
}

/** A TTL is a programmer's choice, never outside input: a bad one is a TypeError. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new TypeError(`a store TTL must be a positive whole number of milliseconds, got ${ttlMs}`);
  }
}

/** 128 random bits: a lease token nobody else can guess, so only the holder can renew or release. */
export function newLeaseToken(): string {
  return randomBytes(16).toString('base64url');
}

export function storeClosedError(): TypeError {
  return new TypeError('the store is closed');
}
