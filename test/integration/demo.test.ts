/**
 * `gatehouse demo`, the first thing a newcomer runs: it says which URL to open, that URL asks them to sign
 * in at the bundled development IdP and then shows the sample API through Gatehouse, the public page needs
 * no sign-in, and Ctrl-C (here SIGTERM) stops everything it started.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser } from '../harness/idp.js';
import { NAVIGATION } from '../harness/sign-in.js';
import { childProcessIds, FREE_PORT_ENV, killCliProcesses, spawnCli } from '../harness/process.js';

afterAll(killCliProcesses);

/** Resolves with the connection's outcome: 'connected' or the error code (ECONNREFUSED when closed). */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

interface SampleApiAnswer {
  message: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** Follows a navigation through Gatehouse and the IdP, signing in as `user` on the IdP's page. */
async function signInThroughDemo(start: URL, user: string, jar: CookieJar) {
  let url = start;
  for (let step = 0; step < 8; step += 1) {
    const answer = await requestWithCookies(url, jar, { headers: NAVIGATION });
    const location = answer.headers.location;
    if (answer.status !== 302 || location === undefined) return { url, answer };
    const next = new URL(location, url);
    url = next.port === start.port ? next : await signInWithoutBrowser(next, user, jar);
  }
  throw new Error('the demo sign-in did not settle');
}

describe('gatehouse demo', () => {
  it('signs in at the bundled IdP, serves the sample API, and stops cleanly on SIGTERM', async () => {
    const demo = spawnCli(['demo'], { env: FREE_PORT_ENV });
    const line = await demo.waitForLine('stderr', /Open http:\/\/localhost:\d+\/api\/ in a browser/);
    const url = new URL(/(http:\/\/\S+)/.exec(line)?.[1] ?? '');
    const port = Number(url.port);

    // A script gets 401 with the URL to sign in at; a person is sent to the IdP's page.
    const unauthenticated = await send(port, url.pathname, {
      host: url.host,
      headers: { accept: 'application/json' },
    });
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(unauthenticated.body)).toMatchObject({ error: 'unauthenticated' });

    const jar = new CookieJar();
    const visit = await signInThroughDemo(url, 'alice', jar);
    expect(visit.url.href).toBe(url.href);
    expect(visit.answer.status).toBe(200);
    expect(visit.answer.headers['x-served-by']).toBe('gatehouse-demo');
    const answer = JSON.parse(visit.answer.body) as SampleApiAnswer;
    expect(answer).toMatchObject({ message: 'HELLO WORLD', method: 'GET', path: '/' });
    expect(answer.headers['x-forwarded-for']).toBe('127.0.0.1');
    // The IdP's own cookies share the host name (ports do not separate cookies); the session cookie is cut.
    expect(answer.headers.cookie ?? '').not.toContain('_pomerium');

    // bob is not on the admin page's list; the public page needs nobody.
    const bob = new CookieJar();
    const admin = await signInThroughDemo(new URL('/admin/', url), 'bob', bob);
    expect(admin.answer.status).toBe(403);
    const publicPage = await send(port, '/public/', {
      host: url.host,
      headers: { 'x-demo-visitor': 'newcomer' },
    });
    expect(publicPage.status).toBe(200);
    expect((JSON.parse(publicPage.body) as SampleApiAnswer).headers['x-demo-visitor']).toBe('newcomer');

    // The single-page app is public; its "Sign in" link returns to it after signing in.
    const spa = await send(port, '/app/', { host: url.host });
    expect(spa.status).toBe(200);
    expect(spa.headers['content-type']).toMatch(/^text\/html/);
    expect(spa.body).toContain('Gatehouse demo SPA');
    const spaUrl = new URL('/app/', url);
    const signInLink = new URL(
      `/.pomerium/sign_in?pomerium_redirect_uri=${encodeURIComponent(spaUrl.href)}`,
      url,
    );
    const backToSpa = await signInThroughDemo(signInLink, 'alice', new CookieJar());
    expect(backToSpa.url.href).toBe(spaUrl.href);
    expect(backToSpa.answer.status).toBe(200);

    // The demo runs the sample API and the IdP inside its own process: nothing to orphan.
    expect(childProcessIds(demo.pid)).toEqual([]);
    const sampleApiPort = Number(new URL(`http://${answer.headers.host}`).port);

    expect(await demo.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await probe(port)).toBe('ECONNREFUSED');
    expect(await probe(sampleApiPort)).toBe('ECONNREFUSED');
  });
});
