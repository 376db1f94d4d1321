/**
 * The behaviour every KvStore promises, run against each implementation (memory in unit tests, Redis in
 * integration tests) so session code can rely on it whichever store the config picks.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KvStore } from '../../src/store/kv-store.js';

export interface KvStoreContractOptions {
  /** Moves the stores' clock forward. Without it the suite waits in real time, so its TTLs stay short. */
  advanceTime?: (ms: number) => void;
  /**
   * True when stores from the same `openStore` share values and messages, as two processes on one Redis
   * do; the concurrency tests then spread their calls over two stores.
   */
  isShared: boolean;
}

/** Pub/sub must reach every replica within a second (DESIGN 3: revocation on sign-out). */
const DELIVERY_DEADLINE = { timeout: 1000, interval: 5 };

export function describeKvStoreContract(
  name: string,
  openStore: () => Promise<KvStore>,
  options: KvStoreContractOptions,
): void {
  describe(`${name} satisfies the KvStore contract`, () => {
    const opened: KvStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    async function open(): Promise<KvStore> {
      const store = await openStore();
      opened.push(store);
      return store;
    }

    /** Two handles on one backend when the store is shared, else the same store twice. */
    async function openPair(): Promise<[KvStore, KvStore]> {
      const first = await open();
      return [first, options.isShared ? await open() : first];
    }

    async function elapse(ms: number): Promise<void> {
      if (options.advanceTime === undefined) await sleep(ms);
      else options.advanceTime(ms);
    }

    let keyCount = 0;
    function uniqueKey(label: string): string {
      keyCount += 1;
      return `contract:${label}:${keyCount}:${randomUUID()}`;
    }

    describe('values', () => {
      it('returns the bytes that were set', async () => {
        const store = await open();
        const key = uniqueKey('get');
        await store.set(key, bytes('hello'), 5000);
        expect(await store.get(key)).toEqual(bytes('hello'));
      });

      it('returns undefined for a key that was never set', async () => {
        const store = await open();
        expect(await store.get(uniqueKey('missing'))).toBeUndefined();
      });

      it('round-trips every byte value, including sequences that are not UTF-8', async () => {
        const store = await open();
        const key = uniqueKey('binary');
        const value = binaryValue();
        await store.set(key, value, 5000);
        expect(await store.get(key)).toEqual(value);
        expect(await store.take(key)).toEqual(value);
      });

      it('round-trips an empty value as present, not absent', async () => {
        const store = await open();
        const key = uniqueKey('empty');
        await store.set(key, new Uint8Array(0), 5000);
        expect(await store.get(key)).toEqual(new Uint8Array(0));
      });

      it('keeps its own copy: changing the bytes given or returned changes nothing stored', async () => {
        const store = await open();
        const key = uniqueKey('copy');
        const value = bytes('original');
        await store.set(key, value, 5000);
        value.fill(0);
        const read = await store.get(key);
        read?.fill(0);
        expect(await store.get(key)).toEqual(bytes('original'));
      });

      it('stores a value given as a view into a larger buffer, and only the viewed bytes', async () => {
        const store = await open();
        const key = uniqueKey('view');
        const backing = bytes('xxinsidexx');
        await store.set(key, backing.subarray(2, 8), 5000);
        expect(await store.get(key)).toEqual(bytes('inside'));
      });

      it('keeps a value until its TTL has passed, then forgets it', async () => {
        const [store, other] = await openPair();
        const key = uniqueKey('ttl');
        await store.set(key, bytes('short-lived'), 300);
        await elapse(100);
        expect(await other.get(key)).toEqual(bytes('short-lived'));
        await elapse(350);
        expect(await other.get(key)).toBeUndefined();
      });

      it('replaces both the value and the TTL when set again', async () => {
        const store = await open();
        const key = uniqueKey('replace');
        await store.set(key, bytes('first'), 200);
        await store.set(key, bytes('second'), 5000);
        await elapse(350);
        expect(await store.get(key)).toEqual(bytes('second'));
      });

      it('reports whether delete removed anything', async () => {
        const store = await open();
        const key = uniqueKey('delete');
        await store.set(key, bytes('v'), 5000);
        expect(await store.delete(key)).toBe(true);
        expect(await store.get(key)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
      });

      it('treats an expired value as absent when deleting', async () => {
        const store = await open();
        const key = uniqueKey('delete-expired');
        await store.set(key, bytes('v'), 100);
        await elapse(250);
        expect(await store.delete(key)).toBe(false);
      });

      it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
        'rejects a TTL of %s as a programming error',
        async (ttl) => {
          const store = await open();
          const key = uniqueKey('bad-ttl');
          await expect(store.set(key, bytes('v'), ttl)).rejects.toThrow(TypeError);
          await expect(store.setIfAbsent(key, bytes('v'), ttl)).rejects.toThrow(TypeError);
          await expect(store.replaceIf(key, bytes('v'), bytes('w'), ttl)).rejects.toThrow(TypeError);
          await expect(store.acquireLease(key, ttl)).rejects.toThrow(TypeError);
          expect(await store.get(key)).toBeUndefined();
        },
      );
    });

    describe('take', () => {
      it('returns the value once and removes it', async () => {
        const store = await open();
        const key = uniqueKey('take');
        await store.set(key, bytes('single-use'), 5000);
        expect(await store.take(key)).toEqual(bytes('single-use'));
        expect(await store.take(key)).toBeUndefined();
        expect(await store.get(key)).toBeUndefined();
      });

      it('gives the value to exactly one of 20 concurrent takes', async () => {
        const stores = await openPair();
        const key = uniqueKey('take-race');
        await stores[0].set(key, bytes('code'), 5000);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) => stores[index % 2]!.take(key)),
        );
        expect(results.filter((result) => result !== undefined)).toEqual([bytes('code')]);
      });

      it('returns undefined for an expired value', async () => {
        const store = await open();
        const key = uniqueKey('take-expired');
        await store.set(key, bytes('v'), 100);
        await elapse(250);
        expect(await store.take(key)).toBeUndefined();
      });
    });

    describe('setIfAbsent', () => {
      it('stores when the key is absent and refuses while it is present', async () => {
        const store = await open();
        const key = uniqueKey('nx');
        expect(await store.setIfAbsent(key, bytes('first'), 5000)).toBe(true);
        expect(await store.setIfAbsent(key, bytes('second'), 5000)).toBe(false);
        expect(await store.get(key)).toEqual(bytes('first'));
      });

      it('stores again once the earlier value has expired', async () => {
        const store = await open();
        const key = uniqueKey('nx-expired');
        await store.setIfAbsent(key, bytes('first'), 100);
        await elapse(250);
        expect(await store.setIfAbsent(key, bytes('second'), 5000)).toBe(true);
        expect(await store.get(key)).toEqual(bytes('second'));
      });

      it('lets exactly one of 20 concurrent writers store, and keeps that writer’s value', async () => {
        const stores = await openPair();
        const key = uniqueKey('nx-race');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            stores[index % 2]!.setIfAbsent(key, bytes(`writer-${index}`), 5000),
          ),
        );
        const winners = outcomes.flatMap((stored, index) => (stored ? [index] : []));
        expect(winners).toHaveLength(1);
        expect(await stores[0].get(key)).toEqual(bytes(`writer-${winners[0]}`));
      });
    });

    describe('replaceIf', () => {
      it('replaces the value when the current one matches, with the new TTL', async () => {
        const store = await open();
        const key = uniqueKey('cas');
        await store.set(key, bytes('refresh-1'), 200);
        expect(await store.replaceIf(key, bytes('refresh-1'), bytes('refresh-2'), 5000)).toBe(true);
        await elapse(350);
        expect(await store.get(key)).toEqual(bytes('refresh-2'));
      });

      it('refuses when the current value differs and leaves it untouched', async () => {
        const store = await open();
        const key = uniqueKey('cas-differs');
        await store.set(key, bytes('abc'), 5000);
        expect(await store.replaceIf(key, bytes('abd'), bytes('new'), 5000)).toBe(false);
        expect(await store.replaceIf(key, bytes('ab'), bytes('new'), 5000)).toBe(false);
        expect(await store.replaceIf(key, bytes('abcd'), bytes('new'), 5000)).toBe(false);
        expect(await store.get(key)).toEqual(bytes('abc'));
      });

      it('refuses when the key is absent and does not create it', async () => {
        const store = await open();
        const key = uniqueKey('cas-absent');
        expect(await store.replaceIf(key, bytes(''), bytes('new'), 5000)).toBe(false);
        expect(await store.get(key)).toBeUndefined();
      });

      it('compares binary values byte for byte', async () => {
        const store = await open();
        const key = uniqueKey('cas-binary');
        const current = binaryValue();
        const almost = current.slice();
        almost[almost.length - 1] = 0x00;
        await store.set(key, current, 5000);
        expect(await store.replaceIf(key, almost, bytes('new'), 5000)).toBe(false);
        expect(await store.replaceIf(key, current, binaryValue().reverse(), 5000)).toBe(true);
        expect(await store.get(key)).toEqual(binaryValue().reverse());
      });

      it('lets exactly one of 10 concurrent rotations from the same value win', async () => {
        const stores = await openPair();
        const key = uniqueKey('cas-race');
        await stores[0].set(key, bytes('old'), 5000);
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            stores[index % 2]!.replaceIf(key, bytes('old'), bytes(`new-${index}`), 5000),
          ),
        );
        const winners = outcomes.flatMap((replaced, index) => (replaced ? [index] : []));
        expect(winners).toHaveLength(1);
        expect(await stores[1].get(key)).toEqual(bytes(`new-${winners[0]}`));
      });
    });

    describe('leases', () => {
      it('grants a lease to exactly one of 10 concurrent claimants', async () => {
        const stores = await openPair();
        const key = uniqueKey('lease-race');
        const leases = await Promise.all(
          Array.from({ length: 10 }, (_, index) => stores[index % 2]!.acquireLease(key, 5000)),
        );
        expect(leases.filter((lease) => lease !== undefined)).toHaveLength(1);
      });

      it('keeps a renewed lease past its first TTL, then lets it expire', async () => {
        const [store, other] = await openPair();
        const key = uniqueKey('lease-renew');
        const lease = await store.acquireLease(key, 600);
        expect(lease).toBeDefined();
        await elapse(400);
        expect(await lease?.renew(600)).toBe(true);
        await elapse(400);
        expect(await other.acquireLease(key, 600)).toBeUndefined();
        await elapse(400);
        expect(await other.acquireLease(key, 600)).toBeDefined();
      });

      it('frees the lease at once when its holder releases it', async () => {
        const [store, other] = await openPair();
        const key = uniqueKey('lease-release');
        const lease = await store.acquireLease(key, 5000);
        await lease?.release();
        const next = await other.acquireLease(key, 5000);
        expect(next).toBeDefined();
        expect(next?.token).not.toBe(lease?.token);
      });

      it('passes an expired lease to a new holder, whom the old holder can neither renew over nor release', async () => {
        const [store, other] = await openPair();
        const key = uniqueKey('lease-expired');
        const stale = await store.acquireLease(key, 150);
        await elapse(300);
        const current = await other.acquireLease(key, 5000);
        expect(current).toBeDefined();
        expect(await stale?.renew(5000)).toBe(false);
        await stale?.release();
        expect(await store.acquireLease(key, 5000)).toBeUndefined();
        expect(await current?.renew(5000)).toBe(true);
      });

      it('cannot renew a lease that expired with nobody else taking it', async () => {
        const store = await open();
        const key = uniqueKey('lease-lapsed');
        const lease = await store.acquireLease(key, 100);
        await elapse(250);
        expect(await lease?.renew(5000)).toBe(false);
        expect(await store.acquireLease(key, 5000)).toBeDefined();
      });
    });

    describe('publish and subscribe', () => {
      it('delivers a message to every subscriber, the publisher’s own process included', async () => {
        const store = await open();
        const channel = uniqueKey('channel');
        const first: string[] = [];
        const second: string[] = [];
        await store.subscribe(channel, (message) => first.push(message));
        await store.subscribe(channel, (message) => second.push(message));
        await store.publish(channel, 'revoke:session-1');
        await vi.waitFor(() => {
          expect(first).toEqual(['revoke:session-1']);
          expect(second).toEqual(['revoke:session-1']);
        }, DELIVERY_DEADLINE);
      });

      if (options.isShared) {
        it('delivers a message published through one store to subscribers of another within a second', async () => {
          const [publisher, peer] = await openPair();
          const channel = uniqueKey('channel');
          const atPublisher: string[] = [];
          const atPeer: string[] = [];
          await publisher.subscribe(channel, (message) => atPublisher.push(message));
          await peer.subscribe(channel, (message) => atPeer.push(message));
          await publisher.publish(channel, 'revoke:session-2');
          await vi.waitFor(() => {
            expect(atPublisher).toEqual(['revoke:session-2']);
            expect(atPeer).toEqual(['revoke:session-2']);
          }, DELIVERY_DEADLINE);
        });
      }

      it('delivers nothing from other channels and nothing after a subscription ends', async () => {
        const store = await open();
        const [quiet, ended, marker] = [uniqueKey('quiet'), uniqueKey('ended'), uniqueKey('marker')];
        const heard: string[] = [];
        await store.subscribe(quiet, (message) => heard.push(`quiet:${message}`));
        const unsubscribe = await store.subscribe(ended, (message) => heard.push(`ended:${message}`));
        await store.subscribe(marker, (message) => heard.push(`marker:${message}`));
        await unsubscribe();
        await store.publish(`${quiet}-other`, 'elsewhere');
        await store.publish(ended, 'too late');
        // Messages from one publisher arrive in order, so once the marker is here the others would be too.
        await store.publish(marker, 'done');
        await vi.waitFor(() => {
          expect(heard).toContain('marker:done');
        }, DELIVERY_DEADLINE);
        expect(heard).toEqual(['marker:done']);
      });

      it('treats the same function subscribed twice as two subscriptions, ended separately', async () => {
        const store = await open();
        const channel = uniqueKey('twice');
        const heard: string[] = [];
        const listener = (message: string): void => {
          heard.push(message);
        };
        const endFirst = await store.subscribe(channel, listener);
        await store.subscribe(channel, listener);
        await store.publish(channel, 'one');
        await vi.waitFor(() => {
          expect(heard).toEqual(['one', 'one']);
        }, DELIVERY_DEADLINE);
        await endFirst();
        await store.publish(channel, 'two');
        await vi.waitFor(() => {
          expect(heard).toEqual(['one', 'one', 'two']);
        }, DELIVERY_DEADLINE);
      });

      it('resubscribes to a channel whose every subscription had ended', async () => {
        const store = await open();
        const channel = uniqueKey('again');
        const heard: string[] = [];
        const unsubscribe = await store.subscribe(channel, (message) => heard.push(`first:${message}`));
        await unsubscribe();
        await store.subscribe(channel, (message) => heard.push(`second:${message}`));
        await store.publish(channel, 'hello');
        await vi.waitFor(() => {
          expect(heard).toEqual(['second:hello']);
        }, DELIVERY_DEADLINE);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open', async () => {
        const store = await open();
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('closes idempotently and treats any later call as a programming error', async () => {
        const store = await open();
        await store.close();
        await store.close();
        await expect(store.get(uniqueKey('closed'))).rejects.toThrow(TypeError);
        await expect(store.set(uniqueKey('closed'), bytes('v'), 1000)).rejects.toThrow(TypeError);
        await expect(store.publish(uniqueKey('closed'), 'm')).rejects.toThrow(TypeError);
        await expect(store.subscribe(uniqueKey('closed'), () => undefined)).rejects.toThrow(TypeError);
        await expect(store.ping()).rejects.toThrow(TypeError);
      });
    });
  });
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** All 256 byte values, then sequences no UTF-8 decoder accepts (a lone continuation byte, an overlong `/`). */
function binaryValue(): Uint8Array {
  return Uint8Array.from([...Array.from({ length: 256 }, (_, index) => index), 0x80, 0xc0, 0xaf, 0xff, 0xfe]);
}
