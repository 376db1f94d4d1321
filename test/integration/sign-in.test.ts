/**
 * Signing in through Gatehouse with the real development IdP and a real upstream: the full round trip back
 * to the page the user asked for, the session cookie carried and cut out before the upstream, the access
 * shortcuts, /.pomerium/user, and the 401 a script gets instead of a redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicRoute } from '../harness/gatehouse.js';
import { CookieJar, requestWithCookies } from '../harness/idp.js';
import {
  ALICE,
  ALICE_EMAIL,
  APP,
  BOB,
  BOB_EMAIL,
  navigate,
  NAVIGATION,
  signedInJar,
  signedInRoute,
  signedInSession,
  startAppWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

let world: SignInWorld;

beforeAll(async () => {
  world = await startAppWorld(
    (upstream) => `  - from: http://${APP}
    prefix: /admin
    to: ${upstream}
    allowed_users: [${ALICE_EMAIL}]
${publicRoute(`http://${APP}`, upstream, '    prefix: /public\n')}${signedInRoute(`http://${APP}`, upstream)}`,
  );
});

afterAll(async () => {
  await world?.close();
});

describe('browser sign-in', () => {
  it('signs in at the IdP and returns to the page asked for, with its query', async () => {
    const jar = new CookieJar();
    const visit = await navigate(world.url(APP, '/reports/2026?sort=desc'), jar, ALICE, world.idp);
    expect(visit.answer.status).toBe(200);
    expect(visit.url.href).toBe(world.url(APP, '/reports/2026?sort=desc').href);
    const seen = world.upstream.requests.at(-1);
    expect(seen?.url).toBe('/reports/2026?sort=desc');
    // The session cookie never reaches the upstream.
    expect(seen?.headers.cookie).toBeUndefined();
    // Nothing of the sign-in is left behind in the jar: only the session cookie.
    expect(jar.header(world.url(APP, '/oauth2/callback'))).toMatch(/^_pomerium=[^;]+$/);
  });

  it('cuts only the session cookie out of Cookie; the app’s own cookies reach it unchanged', async () => {
    const { token } = await signedInSession(world.url(APP, '/'), ALICE, world.idp);
    const answer = await requestWithCookies(world.url(APP, '/cart'), new CookieJar(), {
      headers: { cookie: `theme=dark; _pomerium=${token}; cart=a%20b` },
    });
    expect(answer.status).toBe(200);
    expect(world.upstream.requests.at(-1)?.headers.cookie).toBe('theme=dark; cart=a%20b');
  });

  it('lets alice into an allowed_users route and answers bob 403', async () => {
    const alice = await signedInJar(world.url(APP, '/'), ALICE, world.idp);
    expect((await requestWithCookies(world.url(APP, '/admin'), alice)).status).toBe(200);
    const bob = await signedInJar(world.url(APP, '/'), BOB, world.idp);
    const denied = await requestWithCookies(world.url(APP, '/admin'), bob, {
      headers: { accept: 'application/json' },
    });
    expect(denied.status).toBe(403);
    const requestId = denied.headers['x-request-id'];
    expect(JSON.parse(denied.body)).toMatchObject({ code: 'ERR_ACCESS_DENIED', request_id: requestId });
    // The client learns nothing more; the log says who was refused where, and the access line names them.
    const lines = world.gatehouse.logs.filter((line) => line.request_id === requestId);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'access denied by the route’s access rule',
        user: BOB_EMAIL,
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', status: 403, user: BOB_EMAIL }));
  });

  it('reports the signed-in user at /.pomerium/user and 401 when nobody is', async () => {
    const jar = await signedInJar(world.url(APP, '/'), ALICE, world.idp);
    const user = await requestWithCookies(world.url(APP, '/.pomerium/user'), jar);
    expect(user.status).toBe(200);
    expect(JSON.parse(user.body)).toMatchObject({ email: ALICE_EMAIL, groups: ['admins', 'staff'] });
    const nobody = await requestWithCookies(world.url(APP, '/.pomerium/user'), new CookieJar());
    expect(nobody.status).toBe(401);
    const body = JSON.parse(nobody.body) as { error: string; login_url: string };
    expect(body.error).toBe('unauthenticated');
    expect(new URL(body.login_url).pathname).toBe('/oauth2/start');
  });
});

describe('401 or 302', () => {
  it('redirects a navigation to the IdP and answers fetch() with 401 JSON carrying login_url', async () => {
    const navigation = await requestWithCookies(world.url(APP, '/page'), new CookieJar(), {
      headers: NAVIGATION,
    });
    expect(navigation.status).toBe(302);
    expect(new URL(navigation.headers.location ?? '').origin).toBe(new URL(world.idp.issuer).origin);

    const fetched = await requestWithCookies(world.url(APP, '/page'), new CookieJar(), {
      headers: { accept: '*/*', 'sec-fetch-mode': 'cors', origin: `http://${APP}:${world.port}` },
    });
    expect(fetched.status).toBe(401);
    expect(fetched.headers['www-authenticate']).toBe('Pomerium');
    const body = JSON.parse(fetched.body) as { error: string; login_url: string; request_id: string };
    expect(body.error).toBe('unauthenticated');
    expect(body.request_id).toBe(fetched.headers['x-request-id']);

    // The login_url, opened in the browser, signs in and returns to the page the 401 was for.
    const jar = new CookieJar();
    const visit = await navigate(new URL(body.login_url), jar, ALICE, world.idp);
    expect(visit.answer.status).toBe(200);
    expect(visit.url.href).toBe(world.url(APP, '/page').href);
  });

  it('points a same-origin script’s login_url back to the page that made the call (its Referer)', async () => {
    const page = world.url(APP, '/app/reports?tab=2');
    const fetched = await requestWithCookies(world.url(APP, '/api/reports'), new CookieJar(), {
      headers: {
        accept: '*/*',
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'same-origin',
        referer: page.href,
      },
    });
    expect(fetched.status).toBe(401);
    const { login_url: loginUrl } = JSON.parse(fetched.body) as { login_url: string };
    const visit = await navigate(new URL(loginUrl), new CookieJar(), ALICE, world.idp);
    expect(visit.answer.status).toBe(200);
    expect(visit.url.href).toBe(page.href);
  });

  it('serves a public route to anyone without reading a session', async () => {
    const answer = await requestWithCookies(world.url(APP, '/public/x'), new CookieJar(), {
      headers: { cookie: '_pomerium=garbage' },
    });
    expect(answer.status).toBe(200);
    expect(world.upstream.requests.at(-1)?.headers.cookie).toBeUndefined();
  });
});

describe('header tokens', () => {
  it('accepts the session token in each header form and strips it before the upstream', async () => {
    const { token } = await signedInSession(world.url(APP, '/'), ALICE, world.idp);
    const forms = [
      { 'x-pomerium-authorization': token },
      { authorization: `Pomerium ${token}` },
      { authorization: `Bearer Pomerium-${token}` },
    ];
    for (const headers of forms) {
      const answer = await requestWithCookies(world.url(APP, '/api'), new CookieJar(), { headers });
      expect(answer.status).toBe(200);
      const seen = world.upstream.requests.at(-1)?.headers ?? {};
      expect(seen.authorization).toBeUndefined();
      expect(seen['x-pomerium-authorization']).toBeUndefined();
    }
  });

  it('passes a plain Bearer token through to the upstream, and answers an invalid Pomerium token 401', async () => {
    const { jar, token } = await signedInSession(world.url(APP, '/'), ALICE, world.idp);
    const answer = await requestWithCookies(world.url(APP, '/api'), new CookieJar(), {
      headers: { 'x-pomerium-authorization': token, authorization: 'Bearer upstream-token' },
    });
    expect(answer.status).toBe(200);
    expect(world.upstream.requests.at(-1)?.headers.authorization).toBe('Bearer upstream-token');

    const invalid = await requestWithCookies(world.url(APP, '/api'), jar, {
      headers: { ...NAVIGATION, 'x-pomerium-authorization': 'not-a-token' },
    });
    // The valid cookie in the jar is not consulted: the cookie comes first, so send the header alone.
    expect(invalid.status).toBe(200);
    const headerOnly = await requestWithCookies(world.url(APP, '/api'), new CookieJar(), {
      headers: { ...NAVIGATION, 'x-pomerium-authorization': 'not-a-token' },
    });
    expect(headerOnly.status).toBe(401);
  });
});
