import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIdp } from '../../src/demo/dev-idp.js';
import { launchBrowser } from '../harness/browser.js';
import { startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { APP, httpsIdentityConfig, startBrowserIdp } from '../harness/sign-in.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

/**
 * Signing in with a real browser: Chromium opens a protected page of Gatehouse over https, picks a user on
 * the development IdP's page, comes back to the page it asked for, reads who it is from a script, signs
 * out through the confirm form, and is asked to sign in again. Cookies are `Secure` (the default), so
 * this only works because everything of Gatehouse's is https; the IdP is plain http on loopback.
 */
describe('signing in and out in a real browser', () => {
  let browser: Browser;
  let upstream: TestUpstream;
  let idp: DevIdp;
  let gatehouse: TestGatehouse;
  let origin: string;

  beforeAll(async () => {
    const port = await unusedPort();
    origin = `https://${APP}:${port}`;
    // The app: every page is HTML naming the path it was asked for.
    upstream = await startUpstream((req, res) => {
      req.resume();
      const path = (req.url ?? '').replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>App</title><h1>Quarterly reports</h1><p id="path">${path}</p>`);
    });
    idp = await startBrowserIdp([origin], [`${origin}/public/signed-out`]);
    gatehouse = await startGatehouse(
      httpsIdentityConfig(
        idp.issuer,
        `signout_redirect_url: ${origin}/public/signed-out
routes:
  - from: https://${APP}
    prefix: /public
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
  - from: https://${APP}
    to: ${upstream.url}
    allow_any_authenticated_user: true
`,
      ),
      { ADDRESS: `127.0.0.1:${port}` },
    );
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
    await idp?.close();
    await upstream?.close();
  });

  /** A fresh browser profile: no cookies of Gatehouse or of the IdP. The certificate is self-signed. */
  function newContext(): Promise<BrowserContext> {
    return browser.newContext({ ignoreHTTPSErrors: true });
  }

  /** Expects the IdP's sign-in page listing the two development users. */
  async function expectIdpSignInPage(page: Page): Promise<void> {
    expect(new URL(page.url()).origin).toBe(new URL(idp.issuer).origin);
    await expect(page.locator('h1').innerText()).resolves.toBe('Sign in');
    const users = await page.locator('button.user').allInnerTexts();
    expect(users).toHaveLength(2);
    expect(users.join('\n')).toContain('alice@example.com');
    expect(users.join('\n')).toContain('bob@contractor.example');
  }

  /** Opens a protected page, signs in as alice at the IdP, and waits to be back on that page. */
  async function signInAsAlice(page: Page, path: string): Promise<void> {
    await page.goto(`${origin}${path}`);
    await expectIdpSignInPage(page);
    await page.getByRole('button', { name: /alice@example\.com/ }).click();
    await page.waitForURL(`${origin}${path}`);
  }

  it('sends a protected page to the IdP and returns to it signed in, with a Secure HttpOnly cookie', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const before = upstream.requests.length;

    await signInAsAlice(page, '/reports/q3?sort=desc');

    await expect(page.locator('h1').innerText()).resolves.toBe('Quarterly reports');
    await expect(page.locator('#path').innerText()).resolves.toBe('/reports/q3?sort=desc');
    // The upstream served the page once, after sign-in, and never saw the session cookie.
    const served = upstream.requests.slice(before).filter((request) => request.url !== '/favicon.ico');
    expect(served.map((request) => request.url)).toEqual(['/reports/q3?sort=desc']);
    expect(served[0]?.headers.cookie).toBeUndefined();

    const session = (await context.cookies(origin)).find((cookie) => cookie.name === '_pomerium');
    expect(session).toMatchObject({ domain: APP, path: '/', secure: true, httpOnly: true, sameSite: 'Lax' });

    // What an SPA does to learn who is signed in: fetch /.pomerium/user from its own origin.
    const user = await page.evaluate(async () => {
      const response = await fetch('/.pomerium/user');
      return { status: response.status, body: (await response.json()) as { email?: string } };
    });
    expect(user.status).toBe(200);
    expect(user.body.email).toBe('alice@example.com');
    await context.close();
  });

  it('signs out through the confirm form, after which a protected page asks to sign in again', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await signInAsAlice(page, '/dashboard');

    await page.goto(`${origin}/.pomerium/sign_out`);
    await expect(page.locator('h1').innerText()).resolves.toBe('Sign out?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Through the IdP's end-session endpoint to signout_redirect_url, a public page of the app.
    await page.waitForURL(`${origin}/public/signed-out`);
    await expect(page.locator('h1').innerText()).resolves.toBe('Quarterly reports');
    expect((await context.cookies(origin)).map((cookie) => cookie.name)).not.toContain('_pomerium');

    const signedOut = await page.evaluate(async () => (await fetch('/.pomerium/user')).status);
    expect(signedOut).toBe(401);

    // The IdP's session ended too, so its sign-in page is shown again, not skipped.
    const before = upstream.requests.length;
    await page.goto(`${origin}/dashboard`);
    await expectIdpSignInPage(page);
    expect(upstream.requests.length).toBe(before);
    await context.close();
  });
});
