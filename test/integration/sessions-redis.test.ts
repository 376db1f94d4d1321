/**
 * Two Gatehouse instances sharing one Redis act as one: a session signed in through one is honoured by the
 * other, cookie and header token alike, and a sign-out on either ends it on both within a second — even
 * where the other has the session in its in-process cache, because the revocation is published over Redis
 * pub/sub (DESIGN §3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, requestWithCookies, type HttpAnswer } from '../harness/idp.js';
import {
  ALICE,
  APP,
  openSharedRedisSessions,
  postSignOut,
  requestWithToken,
  SESSION_CACHE_TTL_MS,
  signedInRoute,
  signedInSession,
  startAppWorld,
  type GatehouseInstance,
  type SharedRedisSessions,
  type SignInWorld,
} from '../harness/sign-in.js';

const REVOCATION_DEADLINE_MS = 1000;

let redis: SharedRedisSessions;
let world: SignInWorld;
/** The second instance: same YAML, same secrets, same Redis prefix; the IdP knows only A's callback. */
let instanceB: GatehouseInstance;

beforeAll(async () => {
  redis = await openSharedRedisSessions();
  world = await startAppWorld((upstream) => signedInRoute(`http://${APP}`, upstream), redis.storeConfig);
  instanceB = await world.startInstance();
});

afterAll(async () => {
  await world?.close();
  await redis?.close();
});

const onA = (path: string) => world.url(APP, path);
const onB = (path: string) => instanceB.hostUrl(APP, path);

/** A script's request (JSON, no navigation) carrying the session as the jar's cookie. */
const withCookie = (url: URL, jar: CookieJar): Promise<HttpAnswer> =>
  requestWithCookies(url, jar, { headers: { accept: 'application/json' } });

const signInThroughA = () => signedInSession(onA('/'), ALICE, world.idp);

describe('two instances sharing Redis', () => {
  it('honour a session signed in through A on B, as cookie and as header token', async () => {
    const { jar, token } = await signInThroughA();
    expect((await withCookie(onB('/from-b'), jar)).status).toBe(200);
    expect((await requestWithToken(onB('/from-b'), token)).status).toBe(200);
    const seen = world.upstream.requests.at(-1);
    expect(seen?.url).toBe('/from-b');
    expect(seen?.headers['x-pomerium-authorization']).toBeUndefined();
  });

  it('serve a cached session from memory: a record deleted without announcement still passes on A', async () => {
    // The control for the next test: without a revocation message, A would go on honouring the session
    // until its cache entry expires, so a refusal within a second can only come from pub/sub.
    const { token } = await signInThroughA();
    expect((await requestWithToken(onA('/'), token)).status).toBe(200);
    await redis.stored.deleteQuietly(token);
    expect((await requestWithToken(onA('/'), token)).status).toBe(200);
    // B never cached it and reads the store: the session is gone.
    expect((await requestWithToken(onB('/'), token)).status).toBe(401);
  });

  it('end the session on A within a second of a sign-out on B, though A had it cached', async () => {
    const { jar, token } = await signInThroughA();
    const cachedAt = Date.now();
    expect((await withCookie(onA('/'), jar)).status).toBe(200);
    expect((await requestWithToken(onA('/'), token)).status).toBe(200);
    expect((await requestWithToken(onB('/'), token)).status).toBe(200);

    const signOut = await postSignOut(onB('/.pomerium/sign_out'), jar);
    const signedOutAt = Date.now();
    expect(signOut.status).toBe(200);
    expect(JSON.parse(signOut.body)).toMatchObject({ signed_out: true });
    expect((await requestWithToken(onB('/'), token)).status).toBe(401);

    // The jar dropped the cookie B cleared; A is asked with the cookie a browser on A would still hold.
    const staleCookie = new CookieJar();
    staleCookie.store(onA('/'), [`_pomerium=${token}; Path=/`]);
    let refusedAt: number | undefined;
    while (Date.now() - signedOutAt < REVOCATION_DEADLINE_MS) {
      const [cookie, header] = await Promise.all([
        withCookie(onA('/'), staleCookie),
        requestWithToken(onA('/'), token),
      ]);
      if (cookie.status === 401 && header.status === 401) {
        refusedAt = Date.now();
        break;
      }
      expect([cookie.status, header.status]).toEqual([200, 200]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(
      refusedAt,
      `A still honoured the session ${REVOCATION_DEADLINE_MS} ms after sign-out`,
    ).toBeDefined();
    expect((refusedAt ?? Infinity) - signedOutAt).toBeLessThan(REVOCATION_DEADLINE_MS);
    // A's cache entry would still have been fresh: the refusal came from the revocation message.
    expect((refusedAt ?? Infinity) - cachedAt).toBeLessThan(SESSION_CACHE_TTL_MS);
    expect(await redis.stored.recordOf(token)).toBeUndefined();
  });
});
