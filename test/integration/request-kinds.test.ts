/**
 * DESIGN 4.3 through a real Gatehouse: every request kind in test/fixtures/request-kinds.json — headers as
 * real browsers, fetch(), XHR, curl and API clients send them — gets the answer the fixture names on a
 * route with its `auth_mode`: a 302 to the IdP, or a 401 with `WWW-Authenticate: Pomerium` and the login
 * URL — JSON `login_url` for scripts, a page with a "Sign in" link for a browser that asked for HTML (a
 * navigation carrying a token, a form post). Neither reaches the upstream.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import {
  APP,
  identityConfig,
  signedInRoute,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

interface RequestKind {
  readonly name: string;
  readonly authMode: 'auto' | 'redirect' | 'api';
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: 'redirect' | 'unauthorized';
}

const { cases } = JSON.parse(
  readFileSync(new URL('../fixtures/request-kinds.json', import.meta.url), 'utf8'),
) as { cases: readonly RequestKind[] };

let world: SignInWorld;

beforeAll(async () => {
  world = await startSignInWorld({
    callbackHosts: [APP],
    config: ({ issuer, upstream }) => {
      const routes = (['auto', 'redirect', 'api'] as const).map((mode) =>
        signedInRoute(`http://${APP}`, upstream, `    prefix: /${mode}\n    auth_mode: ${mode}\n`),
      );
      return identityConfig(issuer, `routes:\n${routes.join('')}`);
    },
  });
});

afterAll(async () => {
  await world?.close();
});

describe('what an unauthenticated request gets, by request kind', () => {
  it.each(cases)('$name ($authMode): $expect', async (kind) => {
    const before = world.upstream.requests.length;
    const response = await send(world.port, `/${kind.authMode}/page?x=1`, {
      host: `${APP}:${world.port}`,
      headers: { ...kind.headers, host: `${APP}:${world.port}` },
    });
    if (kind.expect === 'redirect') {
      expect(response.status).toBe(302);
      expect(new URL(response.headers.location ?? '').origin).toBe(new URL(world.idp.issuer).origin);
    } else {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Pomerium');
      const loginUrl = response.headers['content-type']?.startsWith('text/html')
        ? /<a href="([^"]+)">Sign in<\/a>/.exec(response.body)?.[1]?.replaceAll('&#38;', '&')
        : (JSON.parse(response.body) as { error: string; login_url: string }).login_url;
      expect(new URL(loginUrl ?? '').pathname).toBe('/oauth2/start');
    }
    expect(world.upstream.requests.length).toBe(before);
  });
});
