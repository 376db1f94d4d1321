/**
 * Refreshing the IdP's tokens, with the development IdP issuing 5-second access tokens and rotating the
 * refresh token on every use (so a refresh token used twice is refused, and ends the session): refresh
 * starts halfway through the token's life rather than on every request, happens once however many
 * requests arrive at once — in one process (single flight) and across two sharing Redis (the lease) —, the
 * rotated refresh token is stored and works next time, and `invalid_grant` ends the session (DESIGN §3).
 *
 * Each test has its own IdP, Gatehouse and key prefix, so the IdP's counters are its own and the tests run
 * at once: each waits seconds for its tokens to age.
 */
import { describe, it, type ExpectStatic } from 'vitest';
import { requestWithCookies, type HttpAnswer } from '../harness/idp.js';
import { pollUntil } from '../harness/process.js';
import {
  ALICE,
  APP,
  identityConfig,
  NAVIGATION,
  openSharedRedisSessions,
  requestWithToken,
  signedInRoute,
  signedInSession,
  startSignInWorld,
  type SignInWorld,
  type StoredSessions,
} from '../harness/sign-in.js';
import type { SessionRecord } from '../../src/auth/session-record.js';

const ACCESS_TOKEN_TTL_SECONDS = 5;
/** Half of the 5-second lifetime has passed: refresh is due (session-service.ts). */
const DUE_AFTER_MS = 2500;
/** When the tests act: due, with room to spare before the token expires at 5 s. */
const ACT_AFTER_MS = 2700;

interface RefreshWorld {
  readonly world: SignInWorld;
  readonly stored: StoredSessions;
  readonly close: () => Promise<void>;
}

async function startRefreshWorld(): Promise<RefreshWorld> {
  const redis = await openSharedRedisSessions();
  let world: SignInWorld;
  try {
    world = await startSignInWorld({
      callbackHosts: [APP],
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      config: ({ issuer, upstream }) =>
        identityConfig(issuer, `${redis.storeConfig}routes:\n${signedInRoute(`http://${APP}`, upstream)}`),
    });
  } catch (error) {
    await redis.close();
    throw error;
  }
  return {
    world,
    stored: redis.stored,
    close: async () => {
      await world.close();
      await redis.close();
    },
  };
}

const signIn = (world: SignInWorld) => signedInSession(world.url(APP, '/'), ALICE, world.idp);

async function storedTokens(stored: StoredSessions, token: string): Promise<SessionRecord['tokens']> {
  const record = await stored.recordOf(token);
  if (record === undefined) throw new Error('the session record is gone');
  return record.tokens;
}

/** Waits until the access token has lived ACT_AFTER_MS: its refresh is due, and it has not expired. */
async function untilRefreshDue(tokens: SessionRecord['tokens']): Promise<void> {
  const issuedAt = tokens.accessTokenIssuedAt;
  if (issuedAt === undefined) throw new Error('the session record does not say when its token was issued');
  await pollUntil(
    'the access token is due for refresh',
    () => Promise.resolve(Date.now() >= issuedAt + ACT_AFTER_MS),
    ACT_AFTER_MS + 1000,
  );
}

const grants = (world: SignInWorld) => ({
  refreshes: world.idp.counters.tokenRequests('refresh_token'),
  refused: world.idp.counters.failedTokenRequests('refresh_token'),
});

function expectAllOk(expect: ExpectStatic, answers: readonly HttpAnswer[]): void {
  expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
}

describe.concurrent('refresh with 5-second access tokens', () => {
  it('does not refresh a fresh token, refreshes once for 20 concurrent requests when due, and the rotated refresh token works next time', async ({
    expect,
  }) => {
    const { world, stored, close } = await startRefreshWorld();
    try {
      const { token } = await signIn(world);
      const url = world.url(APP, '/data');
      const first = await storedTokens(stored, token);
      expect((first.accessTokenExpiresAt ?? 0) - (first.accessTokenIssuedAt ?? 0)).toBe(
        ACCESS_TOKEN_TTL_SECONDS * 1000,
      );
      // Less than half its life gone: requests use the token as it is (the bug was a refresh per request).
      expectAllOk(expect, await Promise.all([1, 2, 3].map(() => requestWithToken(url, token))));
      expect(Date.now() - (first.accessTokenIssuedAt ?? 0)).toBeLessThan(DUE_AFTER_MS);
      expect(grants(world)).toEqual({ refreshes: 0, refused: 0 });

      await untilRefreshDue(first);
      expectAllOk(expect, await Promise.all(Array.from({ length: 20 }, () => requestWithToken(url, token))));
      expect(grants(world)).toEqual({ refreshes: 1, refused: 0 });
      const second = await storedTokens(stored, token);
      expect(second.refreshToken).toEqual(expect.any(String));
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(second.accessTokenIssuedAt).toBeGreaterThan(first.accessTokenIssuedAt ?? Infinity);

      // The IdP refuses a refresh token used twice, so this refresh works only with the rotated one.
      await untilRefreshDue(second);
      expect((await requestWithToken(url, token)).status).toBe(200);
      expect(grants(world)).toEqual({ refreshes: 2, refused: 0 });
      expect((await storedTokens(stored, token)).refreshToken).not.toBe(second.refreshToken);
    } finally {
      await close();
    }
  });

  it('refreshes once for concurrent requests on two instances sharing Redis', async ({ expect }) => {
    const { world, stored, close } = await startRefreshWorld();
    try {
      const instanceB = await world.startInstance();
      const { token } = await signIn(world);
      const onA = world.url(APP, '/data');
      const onB = instanceB.hostUrl(APP, '/data');
      const first = await storedTokens(stored, token);
      await untilRefreshDue(first);

      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) => requestWithToken(index % 2 === 0 ? onA : onB, token)),
      );
      expectAllOk(expect, answers);
      expect(grants(world)).toEqual({ refreshes: 1, refused: 0 });
      expect((await storedTokens(stored, token)).refreshToken).not.toBe(first.refreshToken);
      // Both now work with the refreshed record without refreshing again.
      expectAllOk(expect, await Promise.all([onA, onB].map((url) => requestWithToken(url, token))));
      expect(grants(world)).toEqual({ refreshes: 1, refused: 0 });
    } finally {
      await close();
    }
  });

  it('ends the session when the IdP answers invalid_grant: 401 for a script, 302 for a navigation', async ({
    expect,
  }) => {
    const { world, stored, close } = await startRefreshWorld();
    try {
      const script = await signIn(world);
      const browser = await signIn(world);
      const url = world.url(APP, '/data');
      const tokens = await storedTokens(stored, browser.token);
      expect(world.idp.revokeRefreshTokens(ALICE)).toBe(2);
      await untilRefreshDue(tokens);

      expect((await requestWithToken(url, script.token)).status).toBe(401);
      const navigation = await requestWithCookies(url, browser.jar, { headers: NAVIGATION });
      expect(navigation.status).toBe(302);
      expect(new URL(navigation.headers.location ?? '').origin).toBe(new URL(world.idp.issuer).origin);
      expect(grants(world)).toEqual({ refreshes: 2, refused: 2 });

      // The sessions are gone, not just refused once: the records are deleted and the IdP is not asked again.
      expect(await stored.recordOf(script.token)).toBeUndefined();
      expect(await stored.recordOf(browser.token)).toBeUndefined();
      expect((await requestWithToken(url, script.token)).status).toBe(401);
      expect((await requestWithToken(url, browser.token)).status).toBe(401);
      expect(grants(world)).toEqual({ refreshes: 2, refused: 2 });
    } finally {
      await close();
    }
  });
});
