import type { Clock } from '../../src/shared/clock.js';

export interface FakeClock extends Clock {
  /** Moves both clocks forward by `ms`. */
  advance(ms: number): void;
}

/** Time moves only when a test says so; the epoch offset keeps `now` and `monotonic` visibly different. */
export function createFakeClock(): FakeClock {
  let elapsed = 0;
  return {
    now: () => 1_700_000_000_000 + elapsed,
    monotonic: () => elapsed,
    advance: (ms) => {
      elapsed += ms;
    },
  };
}
