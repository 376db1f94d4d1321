/**
 * Gatehouse when its Redis goes away and comes back, on a private redis-server (never the shared one):
 * sessions in the in-process cache keep working until their entry expires, anything that needs the store
 * answers 503 (JSON for scripts, HTML for browsers), readiness says 503 within a bounded time, liveness and
 * the process stay up, and once Redis answers again everything works without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, requestWithCookies, type HttpAnswer } from '../harness/idp.js';
import { pollUntil } from '../harness/process.js';
import { startPrivateRedis, uniqueKeyPrefix, type PrivateRedis } from '../harness/redis.js';
import {
  ALICE,
  APP,
  BOB,
  navigate,
  NAVIGATION,
  postSignOut,
  redisStoreConfig,
  requestWithToken,
  SESSION_CACHE_TTL_MS,
  signedInRoute,
  signedInSession,
  startAppWorld,
  type GatehouseInstance,
  type SignInWorld,
} from '../harness/sign-in.js';

/** The Redis store's command timeout (1 s) and some room: what /readyz may take when Redis is silent. */
const READINESS_BOUND_MS = 1500;

let redis: PrivateRedis;
let world: SignInWorld;
/** A second instance on the same Redis, to see revocations still travel after Redis came back. */
let instanceB: GatehouseInstance;

beforeAll(async () => {
  redis = await startPrivateRedis();
  world = await startAppWorld(
    (upstream) => signedInRoute(`http://${APP}`, upstream),
    redisStoreConfig(uniqueKeyPrefix(), redis.connectionString),
  );
  instanceB = await world.startInstance();
});

afterAll(async () => {
  await world?.close();
  await redis?.stop();
});

const url = (path: string) => world.url(APP, path);

async function timed<T>(request: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const startedAt = Date.now();
  const answer = await request();
  return { answer, ms: Date.now() - startedAt };
}

/** The 503 a script gets: a JSON body with a stable code and a message that says nothing of Redis's internals. */
function expectStoreUnavailableJson(answer: HttpAnswer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as { code: unknown; message: unknown; request_id: unknown };
  expect(body.code).toBe('ERR_STORE_UNAVAILABLE');
  expect(body.request_id).toBe(answer.headers['x-request-id']);
  expect(body.message).toEqual(expect.any(String));
  expect(answer.body).not.toMatch(new RegExp(`ECONNREFUSED|${redis.port}`));
}

/** The 503 a browser gets: a page, naming the code. */
function expectStoreUnavailableHtml(answer: HttpAnswer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toMatch(/^text\/html/);
  expect(answer.body).toContain('ERR_STORE_UNAVAILABLE');
  expect(answer.body).not.toMatch(new RegExp(`ECONNREFUSED|${redis.port}`));
}

describe('Redis stops and starts again', () => {
  it('serves cached sessions for their cache lifetime, answers 503 where the store is needed, and recovers', async () => {
    const signInStartedAt = Date.now();
    const { jar, token } = await signedInSession(url('/'), ALICE, world.idp);
    expect((await requestWithToken(url('/'), token)).status).toBe(200);
    expect((await requestWithCookies(url('/readyz'), new CookieJar())).status).toBe(200);

    await redis.stop();
    const stoppedAt = Date.now();
    // Otherwise the cache entry could be close to expiry already, and what follows would prove little.
    expect(stoppedAt - signInStartedAt).toBeLessThan(SESSION_CACHE_TTL_MS / 2);

    // Cached: no store needed.
    expect((await requestWithToken(url('/cached'), token)).status).toBe(200);
    expect((await requestWithCookies(url('/cached'), jar, { headers: NAVIGATION })).status).toBe(200);

    // Starting a sign-in stores a login transaction: a browser gets the 503 page instead of the IdP.
    const signIn = await navigate(url('/new'), new CookieJar(), BOB, world.idp);
    expectStoreUnavailableHtml(signIn.answer);

    // Readiness is bounded and honest; liveness stays up.
    const readiness = await timed(() => requestWithCookies(url('/readyz'), new CookieJar()));
    expect(readiness.answer.status).toBe(503);
    expect(readiness.ms).toBeLessThan(READINESS_BOUND_MS);
    expect((await requestWithCookies(url('/ping'), new CookieJar())).status).toBe(200);

    // Once the cache entry expires the session needs the store.
    let outageAnswer: HttpAnswer | undefined;
    await pollUntil(
      'the cached session needs the store',
      async () => {
        const answer = await requestWithToken(url('/cached'), token);
        if (answer.status === 200) return false;
        outageAnswer = answer;
        return true;
      },
      SESSION_CACHE_TTL_MS + 1000,
    );
    const expiredAt = Date.now();
    expect(expiredAt - signInStartedAt).toBeGreaterThanOrEqual(SESSION_CACHE_TTL_MS);
    expectStoreUnavailableJson(outageAnswer!);
    expect(outageAnswer?.headers['retry-after']).toBe('1');
    expectStoreUnavailableHtml(await requestWithCookies(url('/cached'), jar, { headers: NAVIGATION }));
    expect((await requestWithCookies(url('/ping'), new CookieJar())).status).toBe(200);

    await redis.start();
    // Each instance reconnects on its own backoff (at most a second apart).
    const onB = instanceB.hostUrl(APP, '/');
    await pollUntil(
      'both instances reconnect',
      async () => {
        const answers = await Promise.all(
          [url('/readyz'), new URL('/readyz', onB)].map((ready) =>
            requestWithCookies(ready, new CookieJar()),
          ),
        );
        return answers.every((answer) => answer.status === 200);
      },
      3000,
    );
    // This Redis keeps nothing on disk, so the old session is gone: the user is asked to sign in, not 503.
    expect((await requestWithToken(url('/'), token)).status).toBe(401);
    const { jar: again, token: againToken } = await signedInSession(url('/again'), ALICE, world.idp);
    expect((await requestWithToken(url('/again'), againToken)).status).toBe(200);

    // Pub/sub came back too: a sign-out on A reaches B's cache.
    expect((await requestWithToken(onB, againToken)).status).toBe(200);
    const signOut = await postSignOut(url('/.pomerium/sign_out'), again);
    expect(signOut.status).toBe(200);
    await pollUntil(
      'B drops its cached copy',
      async () => (await requestWithToken(onB, againToken)).status === 401,
      1000,
    );
  });
});

describe('Redis stops answering (frozen)', () => {
  it('answers /readyz and requests that need the store 503 within the command timeout, and recovers', async () => {
    const { token } = await signedInSession(url('/'), ALICE, world.idp);
    redis.freeze();
    try {
      // Both wait for the command timeout, so they are asked at once. Starting a sign-in stores a login
      // transaction.
      const [readiness, signIn] = await Promise.all([
        timed(() => requestWithCookies(url('/readyz'), new CookieJar())),
        timed(() => navigate(url('/new'), new CookieJar(), BOB, world.idp)),
      ]);
      expect(readiness.answer.status).toBe(503);
      expect(readiness.ms).toBeLessThan(READINESS_BOUND_MS);
      expectStoreUnavailableHtml(signIn.answer.answer);
      expect(signIn.ms).toBeLessThan(READINESS_BOUND_MS);
      expect((await requestWithCookies(url('/ping'), new CookieJar())).status).toBe(200);
    } finally {
      redis.thaw();
    }
    await pollUntil(
      'Redis answers again',
      async () => (await requestWithCookies(url('/readyz'), new CookieJar())).status === 200,
      3000,
    );
    // Nothing was lost: B, which never saw the session, reads it from Redis.
    const onB = instanceB.hostUrl(APP, '/after-freeze');
    expect((await requestWithToken(onB, token)).status).toBe(200);
  });
});
