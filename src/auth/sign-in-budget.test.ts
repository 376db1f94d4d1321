import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../test/harness/fake-clock.js';
import { SignInBudget } from './sign-in-budget.js';

const WINDOW_MS = 600_000;

function spend(budget: SignInBudget, times: number): boolean[] {
  return Array.from({ length: times }, () => budget.take());
}

describe('SignInBudget', () => {
  it('allows the limit within the window and refuses the next one', () => {
    const budget = new SignInBudget(3, WINDOW_MS, createFakeClock());
    expect(spend(budget, 4)).toEqual([true, true, true, false]);
  });

  it('gives sign-ins back as they leave the window, a tenth of it at a time', () => {
    const clock = createFakeClock();
    const budget = new SignInBudget(2, WINDOW_MS, clock);
    expect(spend(budget, 2)).toEqual([true, true]);
    clock.advance(WINDOW_MS / 2);
    expect(budget.take()).toBe(false);
    clock.advance(WINDOW_MS / 2);
    expect(spend(budget, 3)).toEqual([true, true, false]);
  });

  it('counts sign-ins spread over the window together', () => {
    const clock = createFakeClock();
    const budget = new SignInBudget(5, WINDOW_MS, clock);
    for (let i = 0; i < 5; i += 1) {
      expect(budget.take()).toBe(true);
      clock.advance(WINDOW_MS / 10);
    }
    // All five are inside the window; once the first has left it (ten tenths later), one more fits.
    expect(budget.take()).toBe(false);
    clock.advance((WINDOW_MS / 10) * 5);
    expect(budget.take()).toBe(true);
  });

  it('forgets everything after a long pause', () => {
    const clock = createFakeClock();
    const budget = new SignInBudget(1, WINDOW_MS, clock);
    expect(budget.take()).toBe(true);
    clock.advance(WINDOW_MS * 7);
    expect(budget.take()).toBe(true);
  });
});
