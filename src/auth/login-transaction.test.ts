import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { callbackAttacks, callbackOf } from '../../test/harness/login-fixtures.js';
import { GatehouseError } from '../shared/errors.js';
import { macOf } from './keyed-mac.js';
import { LOGIN_TRANSACTION_TTL_MS, LoginTransactions, type BegunLogin } from './login-transaction.js';
import { deriveAuthKeys } from './secrets.js';
import { useMemoryStores } from '../../test/harness/memory-store.js';

const secrets = {
  sharedSecret: new Uint8Array(32).fill(7),
  previousSharedSecrets: [],
  cookieSecret: new Uint8Array(32).fill(9),
};
const keys = deriveAuthKeys(secrets);
const otherKeys = deriveAuthKeys({ ...secrets, cookieSecret: new Uint8Array(32).fill(10) });

const cookieRequest = {
  returnUrl: 'https://app.example.com/reports?q=1',
  routeHost: 'app.example.com',
} as const;

const newStore = useMemoryStores();

function setUp() {
  const { clock, store } = newStore();
  return { clock, store, transactions: new LoginTransactions({ store, keys, cookieName: '_pomerium' }) };
}

const callbackFor = (login: BegunLogin) => ({ state: login.state, csrfCookieValue: login.csrfCookie.value });

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(GatehouseError);
  await expect(promise).rejects.toMatchObject({ code, status: 400, expose: true });
}

describe('beginLogin', () => {
  it('returns a 128-bit state, a nonce and an S256 challenge of the verifier completeLogin returns', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    expect(login.state).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(login.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(login.nonce).not.toBe(login.state);
    const pending = await transactions.completeLogin(callbackFor(login));
    expect(pending.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.codeChallenge).toBe(createHash('sha256').update(pending.codeVerifier).digest('base64url'));
  });

  it('gives every transaction its own state, nonce and CSRF cookie name', async () => {
    const { transactions } = setUp();
    const logins = await Promise.all(
      Array.from({ length: 20 }, () => transactions.beginLogin({ ...cookieRequest, mode: 'cookie' })),
    );
    expect(new Set(logins.map((login) => login.state)).size).toBe(20);
    expect(new Set(logins.map((login) => login.nonce)).size).toBe(20);
    expect(new Set(logins.map((login) => login.csrfCookie.name)).size).toBe(20);
  });

  it('names the CSRF cookie after cookie_name and the state, valid for the transaction lifetime', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    expect(login.csrfCookie.name).toBe(`_pomerium_csrf_${login.state}`);
    expect(transactions.csrfCookieName(login.state)).toBe(login.csrfCookie.name);
    expect(login.csrfCookie.maxAgeSeconds).toBe(600);
    expect(login.csrfCookie.value).not.toContain(login.state);
  });

  it('stores the transaction sealed, so the store reveals neither the verifier, the nonce nor the URL', async () => {
    const { store, transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    const stored = await store.get(`login:${login.state}`);
    const text = Buffer.from(stored ?? new Uint8Array()).toString('latin1');
    expect(stored?.[0]).toBe(1);
    expect(text).not.toContain(login.nonce);
    expect(text).not.toContain('reports');
    expect(text).not.toContain('app.example.com');
  });
});

describe('completeLogin', () => {
  it('returns the cookie-mode request with its secrets', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    await expect(transactions.completeLogin(callbackFor(login))).resolves.toMatchObject({
      ...cookieRequest,
      mode: 'cookie',
      state: login.state,
      nonce: login.nonce,
    });
  });

  it('returns the programmatic redirect of a programmatic login', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({
      ...cookieRequest,
      mode: 'programmatic',
      programmaticRedirect: 'http://localhost:3000/app',
    });
    await expect(transactions.completeLogin(callbackFor(login))).resolves.toMatchObject({
      mode: 'programmatic',
      programmaticRedirect: 'http://localhost:3000/app',
    });
  });

  it('refuses a replayed state', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    await transactions.completeLogin(callbackFor(login));
    await expectCode(transactions.completeLogin(callbackFor(login)), 'ERR_LOGIN_STATE_INVALID');
  });

  it('lets exactly one of several concurrent callbacks with the same state through', async () => {
    const { transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => transactions.completeLogin(callbackFor(login))),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses a transaction after ten minutes', async () => {
    const { clock, transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    clock.advance(LOGIN_TRANSACTION_TTL_MS + 1);
    await expectCode(transactions.completeLogin(callbackFor(login)), 'ERR_LOGIN_STATE_INVALID');
  });

  it('accepts a transaction just before ten minutes', async () => {
    const { clock, transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    clock.advance(LOGIN_TRANSACTION_TTL_MS - 1);
    await expect(transactions.completeLogin(callbackFor(login))).resolves.toMatchObject(cookieRequest);
  });

  it('refuses a state nobody started even with a correctly bound cookie', async () => {
    const { transactions } = setUp();
    const state = 'q7Jx0cWm3vQ9rT2yL5nB8A';
    const csrfCookieValue = macOf(keys.csrfBinding, state);
    await expectCode(transactions.completeLogin({ state, csrfCookieValue }), 'ERR_LOGIN_STATE_INVALID');
  });

  it('refuses a CSRF cookie made with another cookie_secret', async () => {
    const { store, transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    const elsewhere = new LoginTransactions({ store, keys: otherKeys, cookieName: '_pomerium' });
    await expectCode(elsewhere.completeLogin(callbackFor(login)), 'ERR_LOGIN_CSRF_INVALID');
    await expect(transactions.completeLogin(callbackFor(login))).resolves.toMatchObject(cookieRequest);
  });

  it('refuses a transaction whose stored record was altered', async () => {
    const { store, transactions } = setUp();
    const login = await transactions.beginLogin({ ...cookieRequest, mode: 'cookie' });
    const stored = (await store.get(`login:${login.state}`)) ?? new Uint8Array();
    stored[stored.length - 1] = (stored.at(-1) ?? 0) ^ 1;
    await store.set(`login:${login.state}`, stored, 60_000);
    await expectCode(transactions.completeLogin(callbackFor(login)), 'ERR_LOGIN_STATE_INVALID');
  });

  it('refuses another transaction moved under this state', async () => {
    const { store, transactions } = setUp();
    const [mine, theirs] = await Promise.all([
      transactions.beginLogin({ ...cookieRequest, mode: 'cookie' }),
      transactions.beginLogin({ ...cookieRequest, mode: 'cookie' }),
    ]);
    const moved = (await store.get(`login:${theirs.state}`)) ?? new Uint8Array();
    await store.set(`login:${mine.state}`, moved, 60_000);
    await expectCode(transactions.completeLogin(callbackFor(mine)), 'ERR_LOGIN_STATE_INVALID');
  });

  it('completes several tabs signing in at once, in any order', async () => {
    const { transactions } = setUp();
    const logins = await Promise.all(
      Array.from({ length: 5 }, (_, tab) =>
        transactions.beginLogin({
          ...cookieRequest,
          returnUrl: `https://app.example.com/tab/${tab}`,
          mode: 'cookie',
        }),
      ),
    );
    const pending = await Promise.all(
      logins.reverse().map((login) => transactions.completeLogin(callbackFor(login))),
    );
    expect(pending.map((login) => login.returnUrl).sort()).toEqual(
      Array.from({ length: 5 }, (_, tab) => `https://app.example.com/tab/${tab}`),
    );
  });

  it('has no CSRF cookie name for a malformed state', () => {
    const { transactions } = setUp();
    expect(transactions.csrfCookieName(undefined)).toBeUndefined();
    expect(transactions.csrfCookieName('x; Path=/')).toBeUndefined();
  });
});

describe('hostile callbacks (test/fixtures/login/callback-attacks.json)', () => {
  it.each(callbackAttacks)('$name: $expect, and the genuine sign-in still completes', async (attack) => {
    const { transactions } = setUp();
    const [genuine, other] = await Promise.all([
      transactions.beginLogin({ ...cookieRequest, mode: 'cookie' }),
      transactions.beginLogin({ ...cookieRequest, returnUrl: 'https://evil.example/', mode: 'cookie' }),
    ]);
    const callback = callbackOf(attack, { genuine: callbackFor(genuine), other: callbackFor(other) });
    await expectCode(transactions.completeLogin(callback), attack.expect);
    await expect(transactions.completeLogin(callbackFor(genuine))).resolves.toMatchObject(cookieRequest);
  });
});
