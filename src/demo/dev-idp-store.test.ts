import { afterEach, describe, expect, it, vi } from 'vitest';
import { DevIdpStore } from './dev-idp-store.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('DevIdpStore', () => {
  it('finds what was stored, per model', async () => {
    const store = new DevIdpStore();
    await store.adapterFor('Session').upsert('s1', { uid: 'u1' }, 60);
    expect(await store.adapterFor('Session').find('s1')).toEqual({ uid: 'u1' });
    expect(await store.adapterFor('Grant').find('s1')).toBeUndefined();
    expect(await store.adapterFor('Session').findByUid('u1')).toEqual({ uid: 'u1' });
  });

  it('forgets a record once its lifetime has passed', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const adapter = new DevIdpStore().adapterFor('AccessToken');
    await adapter.upsert('t1', {}, 5);
    vi.setSystemTime(1_000_000 + 4_999);
    expect(await adapter.find('t1')).toEqual({});
    vi.setSystemTime(1_000_000 + 5_000);
    expect(await adapter.find('t1')).toBeUndefined();
  });

  it('keeps a record with no lifetime', async () => {
    vi.useFakeTimers({ now: 0 });
    const adapter = new DevIdpStore().adapterFor('Client');
    await adapter.upsert('c1', {});
    vi.setSystemTime(10 ** 12);
    expect(await adapter.find('c1')).toEqual({});
  });

  it('marks a consumed record with the time in seconds', async () => {
    vi.useFakeTimers({ now: 42_500 });
    const adapter = new DevIdpStore().adapterFor('AuthorizationCode');
    await adapter.upsert('code', {}, 60);
    await adapter.consume('code');
    expect(await adapter.find('code')).toEqual({ consumed: 42 });
  });

  it('revokes by grant only the calling model’s records of that grant', async () => {
    const store = new DevIdpStore();
    const refreshTokens = store.adapterFor('RefreshToken');
    const accessTokens = store.adapterFor('AccessToken');
    await refreshTokens.upsert('r1', { grantId: 'g1' }, 60);
    await refreshTokens.upsert('r2', { grantId: 'g2' }, 60);
    await accessTokens.upsert('a1', { grantId: 'g1' }, 60);
    await refreshTokens.revokeByGrantId('g1');
    expect(await refreshTokens.find('r1')).toBeUndefined();
    expect(await refreshTokens.find('r2')).toBeDefined();
    expect(await accessTokens.find('a1')).toBeDefined();
  });

  it('removes the records a predicate picks and says how many', async () => {
    const store = new DevIdpStore();
    const refreshTokens = store.adapterFor('RefreshToken');
    await refreshTokens.upsert('r1', { accountId: 'alice' }, 60);
    await refreshTokens.upsert('r2', { accountId: 'alice' }, 60);
    await refreshTokens.upsert('r3', { accountId: 'bob' }, 60);
    expect(store.removeWhere('RefreshToken', (payload) => payload.accountId === 'alice')).toBe(2);
    expect(await refreshTokens.find('r3')).toBeDefined();
  });

  it('destroys one record', async () => {
    const adapter = new DevIdpStore().adapterFor('Session');
    await adapter.upsert('s1', {}, 60);
    await adapter.destroy('s1');
    expect(await adapter.find('s1')).toBeUndefined();
  });
});
