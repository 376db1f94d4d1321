/**
 * A bound on the sign-ins one process begins. Every sign-in stores a login transaction for ten minutes
 * (login-transaction.ts) before anyone has proved anything, so a client sending anonymous navigations in a
 * loop could otherwise fill the memory store (or Redis) until the process runs out of memory. With the
 * budget spent, further sign-ins are refused (503) until older ones expire, and everything else — signed-in
 * users, public routes — keeps working.
 *
 * Counted in ten buckets across the window, so the count forgets old sign-ins within a tenth of it.
 */
import type { Clock } from '../shared/clock.js';

const BUCKETS = 10;

export class SignInBudget {
  readonly #limit: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #counts = new Array<number>(BUCKETS).fill(0);
  /** The bucket number (monotonic time / bucket width) that `#counts` was last brought up to. */
  #current = 0;

  constructor(limit: number, windowMs: number, clock: Clock) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new TypeError('a sign-in budget needs a positive limit');
    this.#limit = limit;
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.#clock = clock;
    this.#current = Math.floor(clock.monotonic() / this.#bucketMs);
  }

  /** Spends one sign-in; false when the window's budget is spent. */
  take(): boolean {
    const bucket = Math.floor(this.#clock.monotonic() / this.#bucketMs);
    // Buckets that have left the window since the last call start again from zero.
    for (let stale = this.#current + 1; stale <= Math.min(bucket, this.#current + BUCKETS); stale += 1) {
      this.#counts[stale % BUCKETS] = 0;
    }
    this.#current = Math.max(this.#current, bucket);
    const spent = this.#counts.reduce((sum, count) => sum + count, 0);
    if (spent >= this.#limit) return false;
    this.#counts[bucket % BUCKETS] = (this.#counts[bucket % BUCKETS] ?? 0) + 1;
    return true;
  }
}
