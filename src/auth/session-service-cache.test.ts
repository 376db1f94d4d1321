import { describe, expect, it } from 'vitest';
import { VerifiedSessionCache, type CachedSession } from './session-service-cache.js';

function cachedSession(id: string): CachedSession {
  return {
    session: {
      id,
      record: { userId: `user-${id}`, groups: [], claims: {}, tokens: {}, createdAt: 0, expiresAt: 60_000 },
    },
    tokenExpiresAt: 60_000,
  };
}

describe('VerifiedSessionCache', () => {
  it('serves an entry for its TTL and not a millisecond longer', () => {
    const cache = new VerifiedSessionCache(1000, 10);
    cache.set('token-a', cachedSession('a'), 0, cache.generation);
    expect(cache.get('token-a', 999)?.session.id).toBe('a');
    expect(cache.get('token-a', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops every token of a revoked session and keeps the others', () => {
    const cache = new VerifiedSessionCache(1000, 10);
    cache.set('token-a1', cachedSession('a'), 0, cache.generation);
    cache.set('token-a2', cachedSession('a'), 0, cache.generation);
    cache.set('token-b', cachedSession('b'), 0, cache.generation);
    cache.dropSession('a');
    expect(cache.get('token-a1', 1)).toBeUndefined();
    expect(cache.get('token-a2', 1)).toBeUndefined();
    expect(cache.get('token-b', 1)?.session.id).toBe('b');
  });

  it('refuses a record read before a revocation arrived', () => {
    const cache = new VerifiedSessionCache(1000, 10);
    const readBeforeRevocation = cache.generation;
    cache.dropSession('a');
    cache.set('token-a', cachedSession('a'), 0, readBeforeRevocation);
    expect(cache.get('token-a', 1)).toBeUndefined();
  });

  it('evicts the oldest entries beyond its size limit', () => {
    const cache = new VerifiedSessionCache(1000, 2);
    cache.set('token-a', cachedSession('a'), 0, cache.generation);
    cache.set('token-b', cachedSession('b'), 1, cache.generation);
    cache.set('token-c', cachedSession('c'), 2, cache.generation);
    expect(cache.size).toBe(2);
    expect(cache.get('token-a', 3)).toBeUndefined();
    expect(cache.get('token-c', 3)?.session.id).toBe('c');
  });

  it('drops expired entries nobody asks for again when it inserts', () => {
    const cache = new VerifiedSessionCache(1000, 10);
    cache.set('token-a', cachedSession('a'), 0, cache.generation);
    cache.set('token-b', cachedSession('b'), 500, cache.generation);
    cache.set('token-c', cachedSession('c'), 1200, cache.generation);
    expect(cache.size).toBe(2);
  });

  it('moves a refreshed entry to the back so it is not evicted as the oldest', () => {
    const cache = new VerifiedSessionCache(1000, 2);
    cache.set('token-a', cachedSession('a'), 0, cache.generation);
    cache.set('token-b', cachedSession('b'), 1, cache.generation);
    cache.set('token-a', cachedSession('a'), 2, cache.generation);
    cache.set('token-c', cachedSession('c'), 3, cache.generation);
    expect(cache.get('token-a', 4)?.session.id).toBe('a');
    expect(cache.get('token-b', 4)).toBeUndefined();
  });
});
