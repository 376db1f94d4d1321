import { afterEach } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';

/**
 * For unit tests of what keeps state in a store: each call gives a fresh MemoryStore on its own fake
 * clock, and every store the file opened is closed after each test.
 */
export function useMemoryStores(): () => { clock: FakeClock; store: MemoryStore } {
  const stores: MemoryStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  return () => {
    const clock = createFakeClock();
    const store = new MemoryStore({ clock });
    stores.push(store);
    return { clock, store };
  };
}
