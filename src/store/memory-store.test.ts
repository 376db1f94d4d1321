import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { describeKvStoreContract } from '../../test/contracts/kv-store.contract.js';
import { MemoryStore } from './memory-store.js';
import { createFakeClock } from '../../test/harness/fake-clock.js';

const contractClock = createFakeClock();
describeKvStoreContract('MemoryStore', () => Promise.resolve(new MemoryStore({ clock: contractClock })), {
  advanceTime: (ms) => {
    contractClock.advance(ms);
  },
  isShared: false,
});

describe('MemoryStore housekeeping', () => {
  const stores: MemoryStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('sweeps away expired entries that nobody reads again', async () => {
    const clock = createFakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 5 });
    stores.push(store);
    await store.set('abandoned-login', new Uint8Array([1]), 100);
    await store.set('still-valid', new Uint8Array([2]), 10_000);
    clock.advance(150);
    await sleep(30);
    expect(store.size).toBe(1);
    expect(await store.get('still-valid')).toEqual(new Uint8Array([2]));
  });

  it('leaves entries that have not expired yet when it sweeps', async () => {
    const clock = createFakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 5 });
    stores.push(store);
    await store.set('login', new Uint8Array([1]), 100);
    clock.advance(99);
    await sleep(30);
    expect(store.size).toBe(1);
  });

  it('drops everything when closed', async () => {
    const store = new MemoryStore({ clock: createFakeClock() });
    await store.set('key', new Uint8Array([1]), 1000);
    await store.close();
    expect(store.size).toBe(0);
  });
});
