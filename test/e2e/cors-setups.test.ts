import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIdp } from '../../src/demo/dev-idp.js';
import { launchBrowser } from '../harness/browser.js';
import { startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { APP, httpsIdentityConfig, startBrowserIdp } from '../harness/sign-in.js';
import { htmlPage, servePages, startHttpsPageServer, type HttpsPageServer } from '../harness/spa-pages.js';
import { startUpstream, unusedPort, type RecordedRequest, type TestUpstream } from '../harness/upstream.js';

/**
 * The three ways an SPA calls an API behind Gatehouse (DESIGN 1; docs/spa-single-domain.md,
 * docs/sharing-sessions-across-subdomains.md, docs/header-tokens-for-cross-origin-apis.md), end to end in
 * Chromium over https, signing in at the development IdP, against a real API that knows nothing of CORS.
 * The browser code the tests run is the guides' code. Each setup also shows what a user hits without the
 * right setting: a fetch that follows a redirect to the IdP, a 401 the script cannot read, a request the
 * browser blocks.
 */

const API = 'api.example.test';
const NO_CORS_API = 'nocors.example.test';
const AUTH = 'auth.example.test';
const DATA = 'data.example.test';
const DATA_WITHOUT_TOKEN_HEADER = 'data-noheader.example.test';
/** The header-token SPA lives on another site altogether: https://localhost, served by no Gatehouse. */
const SPA_HOST = 'localhost';

/** The reports API: JSON, no CORS headers of its own, no idea who is signed in. */
const REPORTS = ['Q3 revenue', 'Q4 plan'];

function apiUpstream(): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const path = new URL(req.url ?? '/', 'http://api.invalid').pathname;
      if (req.method === 'GET' && path === '/reports') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ reports: REPORTS }));
      } else if (req.method === 'POST' && path === '/reports') {
        const sent = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ created: sent }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'no such report' }));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The SPAs. Minimal pages: a button that loads the reports into <pre id="out">, and the guide's code.

/**
 * A reports SPA: a "Load reports" button (and `controls`) above <pre id="out">, where `render` shows what
 * the API sent. `script`, the guide's code, defines `loadReports()`.
 */
const reportsSpa = (script: string, controls = ''): string =>
  htmlPage(
    'Reports',
    `<button id="load">Load reports</button>${controls}<pre id="out"></pre>
<script>
function render(reports) {
  document.getElementById('out').textContent = JSON.stringify(reports);
}
${script}
document.getElementById('load').onclick = loadReports;
</script>`,
  );

/** Setup 1: the API under /api on the page's own origin. */
const singleDomainSpa = reportsSpa(`async function loadReports() {
  const response = await fetch('/api/reports'); // same origin: the session cookie goes along, no CORS
  if (response.status === 401) {
    // Nobody signed in (or the session ended): sign in, then come back to this page.
    location.assign('/.pomerium/sign_in?pomerium_redirect_uri=' + encodeURIComponent(location.href));
    return;
  }
  render(await response.json());
}`);

/** Setup 2: the API on a sibling subdomain, the session cookie shared through cookie_domain. */
const subdomainSpa = (apiOrigin: string): string =>
  reportsSpa(
    `const API = '${apiOrigin}';
// Signing in through this page's own host comes back to this page.
document.getElementById('sign-in').href =
  '/.pomerium/sign_in?pomerium_redirect_uri=' + encodeURIComponent(location.href);
async function loadReports() {
  const response = await fetch(API + '/reports', { credentials: 'include' });
  if (response.status === 401) {
    // Readable across origins: Gatehouse's 401 carries the route's CORS headers.
    const { login_url } = await response.json();
    location.assign(login_url);
    return;
  }
  render(await response.json());
}`,
    ' <a id="sign-in">Sign in</a>',
  );

/** Setup 3: an SPA on another site holding a session token, sent as X-Pomerium-Authorization. */
const headerTokenSpa = (apiOrigin: string): string =>
  reportsSpa(`const API = '${apiOrigin}';
// Back from the programmatic login: keep the token for this tab and take it out of the address bar.
const landed = new URL(location.href);
if (landed.searchParams.has('pomerium_jwt')) {
  sessionStorage.setItem('gatehouse_token', landed.searchParams.get('pomerium_jwt'));
  history.replaceState(null, '', landed.pathname);
}
function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem('gatehouse_token');
  if (token) headers.set('X-Pomerium-Authorization', token);
  return fetch(API + path, { ...init, headers });
}
async function signIn() {
  const back = location.origin + location.pathname;
  const answer = await fetch(API + '/.pomerium/api/v1/login?pomerium_redirect_uri=' + encodeURIComponent(back));
  location.assign(await answer.text());
}
async function loadReports() {
  const response = await api('/reports');
  if (response.status === 401) {
    sessionStorage.removeItem('gatehouse_token');
    await signIn();
    return;
  }
  render(await response.json());
}`);

// ---------------------------------------------------------------------------------------------------------

/** What a script learns from a fetch: the status and body it may read, or the browser's refusal. */
interface FetchOutcome {
  readonly status?: number;
  readonly body?: unknown;
  /** `X-Request-Id`, when the response lets scripts read it (Access-Control-Expose-Headers). */
  readonly requestId?: string | null;
  /** Set when the fetch rejected: Chromium's "TypeError: Failed to fetch" for a CORS failure. */
  readonly error?: string;
}

/** The header-token SPA's own `api()` helper, which adds the token it holds. */
interface HeaderTokenSpa {
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** Where the header-token SPA keeps its token (the DOM's types are not in this project's lib). */
interface SpaStorage {
  readonly sessionStorage: { getItem(key: string): string | null };
}

/**
 * Runs `fetch(url, init)` in the page — or the header-token SPA's `api(url, init)` — and returns what the
 * page's script can see of the answer.
 */
function fetchInPage(
  page: Page,
  url: string,
  init: RequestInit = {},
  through: 'fetch' | 'spa-api' = 'fetch',
): Promise<FetchOutcome> {
  return page.evaluate(
    async ({ url, init, through }) => {
      try {
        const response =
          through === 'fetch'
            ? await fetch(url, init)
            : await (globalThis as unknown as HeaderTokenSpa).api(url, init);
        const text = await response.text();
        return {
          status: response.status,
          body: text === '' ? null : (JSON.parse(text) as unknown),
          requestId: response.headers.get('x-request-id'),
        };
      } catch (error) {
        return { error: String(error) };
      }
    },
    { url, init, through },
  );
}

/** A JSON POST: `Content-Type: application/json` is not CORS-safelisted, so a browser preflights it. */
const jsonPost = (body: unknown, init: RequestInit = {}): RequestInit => ({
  ...init,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const BLOCKED = expect.stringMatching(/^TypeError: Failed to fetch/) as unknown as string;

describe('SPAs calling APIs through Gatehouse in a real browser', () => {
  let browser: Browser;
  let idp: DevIdp;
  let api: TestUpstream;
  let singleDomainPages: TestUpstream;
  let subdomainPages: TestUpstream;
  let spaServer: HttpsPageServer;
  /** Setup 1: one host, host-only cookie. */
  let single: TestGatehouse;
  /** Setups 2 and 3: cookie_domain .example.test, a central callback host, CORS policies. */
  let shared: TestGatehouse;
  let singleOrigin: string;
  let sharedPort: number;
  let spaOrigin: string;
  const on = (host: string, path = '') => `https://${host}:${sharedPort}${path}`;

  beforeAll(async () => {
    const [singlePort, port] = await Promise.all([unusedPort(), unusedPort()]);
    sharedPort = port;
    singleOrigin = `https://${APP}:${singlePort}`;
    [api, singleDomainPages, subdomainPages, spaServer, browser] = await Promise.all([
      apiUpstream(),
      startUpstream(servePages({ '/': singleDomainSpa })),
      startUpstream(servePages({ '/': subdomainSpa(on(API)) })),
      startHttpsPageServer({ '/': headerTokenSpa(on(DATA)) }),
      launchBrowser(),
    ]);
    spaOrigin = `https://${SPA_HOST}:${spaServer.port}`;
    idp = await startBrowserIdp([singleOrigin, on(AUTH)]);
    // docs/spa-single-domain.md, plus an API route with auth_mode: redirect (what fetch cannot follow).
    single = await startGatehouse(
      `${httpsIdentityConfig(idp.issuer)}routes:
  - from: https://${APP}
    prefix: /api
    prefix_rewrite: /
    to: ${api.url}
    allowed_domains: [example.com]
  - from: https://${APP}
    prefix: /redirecting-api
    prefix_rewrite: /
    to: ${api.url}
    allowed_domains: [example.com]
    auth_mode: redirect
  - from: https://${APP}
    to: ${singleDomainPages.url}
    allow_public_unauthenticated_access: true
`,
      { ADDRESS: `127.0.0.1:${singlePort}` },
    );
    // docs/sharing-sessions-across-subdomains.md and docs/header-tokens-for-cross-origin-apis.md, each API
    // also on a host whose route lacks the setting that makes it work.
    /** The reports API on `host` for example.com users, a 401 for scripts; `cors` is its policy. */
    const apiRoute = (host: string, cors = '') => `  - from: https://${host}
    to: ${api.url}
    allowed_domains: [example.com]
    auth_mode: api
${cors}`;
    const apiRoutes = [
      apiRoute(
        API,
        `    cors:
      allowed_origins: ['${on(APP)}']
      allowed_methods: [GET, POST, PUT, DELETE]
      allowed_headers: [Content-Type]
      exposed_headers: [X-Request-Id]
      allow_credentials: true
      max_age: 600
`,
      ),
      apiRoute(NO_CORS_API),
      apiRoute(
        DATA,
        `    cors:
      allowed_origins: ['${spaOrigin}']
      allowed_methods: [GET, POST, PUT, DELETE]
      allowed_headers: [Content-Type, X-Pomerium-Authorization]
      exposed_headers: [X-Request-Id]
      max_age: 600
`,
      ),
      apiRoute(
        DATA_WITHOUT_TOKEN_HEADER,
        `    cors:
      allowed_origins: ['${spaOrigin}']
      allowed_methods: [GET, POST, PUT, DELETE]
      allowed_headers: [Content-Type]
`,
      ),
    ];
    shared = await startGatehouse(
      `${httpsIdentityConfig(idp.issuer)}authenticate_service_url: ${on(AUTH)}
cookie_domain: .example.test
routes:
  - from: https://${APP}
    to: ${subdomainPages.url}
    allow_public_unauthenticated_access: true
${apiRoutes.join('')}`,
      { ADDRESS: `127.0.0.1:${sharedPort}` },
    );
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([single?.close(), shared?.close()]);
    await Promise.all([
      idp?.close(),
      api?.close(),
      singleDomainPages?.close(),
      subdomainPages?.close(),
      spaServer?.close(),
    ]);
  });

  /** A fresh profile — no cookies, no IdP session — that accepts the self-signed certificate. */
  function newContext(): Promise<BrowserContext> {
    return browser.newContext({ ignoreHTTPSErrors: true });
  }

  /** On the IdP's sign-in page: pick alice. */
  async function signInAtIdpAsAlice(page: Page): Promise<void> {
    await page.waitForURL((url) => url.origin === new URL(idp.issuer).origin);
    await page.getByRole('button', { name: /alice@example\.com/ }).click();
  }

  /** Clicks the SPA's "Load reports" and returns what it shows. */
  async function loadReports(page: Page): Promise<unknown> {
    await page.locator('#load').click();
    const out = page.locator('#out');
    await expect.poll(() => out.innerText()).not.toBe('');
    return JSON.parse(await out.innerText()) as unknown;
  }

  /** What reached the API since `mark` (an index into its requests), as `METHOD path`; not the favicon. */
  function apiSawSince(mark: number): string[] {
    return api.requests
      .slice(mark)
      .map((request: RecordedRequest) => `${request.method} ${request.url}`)
      .filter((line) => line !== 'GET /favicon.ico');
  }

  /** The statuses of the preflights Gatehouse answered for `host`, from its access log. */
  function preflightStatuses(host: string): unknown[] {
    return shared.logs
      .filter((line) => line.msg === 'request' && line.method === 'OPTIONS' && line.host === host)
      .map((line) => line.status);
  }

  describe('1. one host: the SPA calls /api on its own origin', () => {
    it('reads the 401, signs in through /.pomerium/sign_in back to the page, then loads with the cookie', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${singleOrigin}/`);
      const mark = api.requests.length;

      // Signed out: a 401 the script reads, with the URL that starts a sign-in, not a redirect.
      const signedOut = await fetchInPage(page, '/api/reports');
      expect(signedOut.status).toBe(401);
      expect(signedOut.body).toMatchObject({
        error: 'unauthenticated',
        login_url: expect.stringMatching(new RegExp(`^${singleOrigin}/oauth2/start\\?login=`)) as unknown,
      });

      // The SPA's own code: on the 401 it goes to sign in and comes back to the page.
      await page.locator('#load').click();
      await signInAtIdpAsAlice(page);
      await page.waitForURL(`${singleOrigin}/`);
      await expect(loadReports(page)).resolves.toEqual({ reports: REPORTS });

      const created = await fetchInPage(page, '/api/reports', jsonPost({ title: 'Q1' }));
      expect(created).toMatchObject({ status: 201, body: { created: { title: 'Q1' } } });

      // The API saw the calls at its own paths, never the session cookie; only after sign-in.
      expect(apiSawSince(mark)).toEqual(['GET /reports', 'POST /reports']);
      expect(api.requests.slice(mark).map((request) => request.headers.cookie)).toEqual([
        undefined,
        undefined,
      ]);
      const cookie = (await context.cookies(singleOrigin)).find((c) => c.name === '_pomerium');
      expect(cookie).toMatchObject({ domain: APP, secure: true, httpOnly: true });
      await context.close();
    });

    it('without the 401 (auth_mode: redirect) a signed-out fetch follows the redirect to the IdP and fails', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${singleOrigin}/`);
      const mark = api.requests.length;
      // The IdP's sign-in page carries no CORS headers: the script gets a network error, nothing to act on.
      await expect(fetchInPage(page, '/redirecting-api/reports')).resolves.toEqual({ error: BLOCKED });
      await expect(fetchInPage(page, '/api/reports')).resolves.toMatchObject({ status: 401 });
      expect(apiSawSince(mark)).toEqual([]);
      await context.close();
    });
  });

  describe('2. sibling subdomains: app.example.test calls api.example.test with a shared cookie', () => {
    it('reads the 401 across origins, signs in through login_url, then GETs and POSTs JSON with credentials', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(on(APP, '/'));
      const mark = api.requests.length;

      // Signed out: the 401 is readable from app.example.test because it carries CORS headers.
      const signedOut = await fetchInPage(page, on(API, '/reports'), { credentials: 'include' });
      expect(signedOut.status).toBe(401);
      expect(signedOut.body).toMatchObject({
        error: 'unauthenticated',
        login_url: expect.stringMatching(new RegExp(`^${on(AUTH)}/oauth2/start\\?login=`)) as unknown,
      });
      // Without a cors block the script cannot even learn that it must sign in.
      await expect(
        fetchInPage(page, on(NO_CORS_API, '/reports'), { credentials: 'include' }),
      ).resolves.toEqual({ error: BLOCKED });

      // The SPA's code follows login_url; after sign-in the browser is back on the SPA (the Referer a
      // cross-origin fetch sends is the page's origin), not on the API's JSON.
      await page.locator('#load').click();
      await signInAtIdpAsAlice(page);
      await page.waitForURL(on(APP, '/'));
      const cookie = (await context.cookies(on(API))).find((c) => c.name === '_pomerium');
      expect(cookie).toMatchObject({
        domain: '.example.test',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      });

      // Back in the SPA, the same call now succeeds: the .example.test cookie goes to api.example.test.
      await expect(loadReports(page)).resolves.toEqual({ reports: REPORTS });

      // A JSON POST: the browser preflights, Gatehouse answers it, then the POST goes with the cookie.
      const beforePost = api.requests.length;
      const created = await fetchInPage(
        page,
        on(API, '/reports'),
        jsonPost({ title: 'Q1' }, { credentials: 'include' }),
      );
      expect(created).toMatchObject({ status: 201, body: { created: { title: 'Q1' } } });
      expect(created.requestId).toMatch(/\S/); // exposed_headers lets the script read it
      expect(apiSawSince(beforePost)).toEqual(['POST /reports']); // the preflight was never forwarded
      await expect.poll(() => preflightStatuses(API)).toEqual([204]);
      expect(api.lastRequest().headers.cookie).toBeUndefined();

      // Gatehouse's own endpoint follows the route's policy: the SPA reads who is signed in.
      const user = await fetchInPage(page, on(API, '/.pomerium/user'), { credentials: 'include' });
      expect(user).toMatchObject({ status: 200, body: { email: 'alice@example.com' } });

      // Forgetting credentials: 'include' leaves the cookie at home, and the API answers 401.
      await expect(fetchInPage(page, on(API, '/reports'))).resolves.toMatchObject({ status: 401 });

      // The SPA's call and the POST after sign-in: no 401 and no preflight went upstream.
      expect(apiSawSince(mark)).toEqual(['GET /reports', 'POST /reports']);

      // Signing out from the SPA through the API host: the cookie is cleared for every subdomain.
      const signOut = await fetchInPage(page, on(API, '/.pomerium/sign_out'), {
        method: 'POST',
        credentials: 'include',
      });
      expect(signOut).toMatchObject({ status: 200, body: { signed_out: true } });
      expect((await context.cookies(on(API))).map((c) => c.name)).not.toContain('_pomerium');
      await expect(fetchInPage(page, on(API, '/reports'), { credentials: 'include' })).resolves.toMatchObject(
        { status: 401 },
      );
      await context.close();
    });

    it('without a cors block the browser hides the answer, and refuses to send a JSON POST at all', async () => {
      const context = await newContext();
      const page = await context.newPage();
      // Signed in through the app's own host, back on the page: the cookie it got is the API's too.
      await page.goto(on(APP, '/'));
      await page.locator('#sign-in').click();
      await signInAtIdpAsAlice(page);
      await page.waitForURL(on(APP, '/'));
      await expect(loadReports(page)).resolves.toEqual({ reports: REPORTS });
      const mark = api.requests.length;

      // A GET is sent — with the cookie, so the API answers — but the script may not read the answer.
      await expect(
        fetchInPage(page, on(NO_CORS_API, '/reports'), { credentials: 'include' }),
      ).resolves.toEqual({ error: BLOCKED });
      expect(apiSawSince(mark)).toEqual(['GET /reports']);

      // A JSON POST needs a preflight; nobody answers it for this origin, so the POST is never sent.
      await expect(
        fetchInPage(page, on(NO_CORS_API, '/reports'), jsonPost({ title: 'Q1' }, { credentials: 'include' })),
      ).resolves.toEqual({ error: BLOCKED });
      expect(apiSawSince(mark)).toEqual(['GET /reports']);
      // The preflight carries no cookie (browsers never send one), so the protected route said 401.
      await expect.poll(() => preflightStatuses(NO_CORS_API)).toEqual([401]);

      // The same calls to the route with the cors policy work in the same tab.
      await expect(
        fetchInPage(page, on(API, '/reports'), jsonPost({ title: 'Q1' }, { credentials: 'include' })),
      ).resolves.toMatchObject({ status: 201 });
      await context.close();
    });
  });

  describe('3. a header token: an SPA on another site calls data.example.test', () => {
    it('reads the 401, gets a token from the programmatic login, and calls with X-Pomerium-Authorization', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${spaOrigin}/`);
      const mark = api.requests.length;

      // No token yet: a 401 the SPA reads across sites.
      const signedOut = await fetchInPage(page, on(DATA, '/reports'));
      expect(signedOut).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });

      // The SPA's code: on the 401 it asks for the programmatic login URL and goes there; after sign-in
      // it lands back on its page with ?pomerium_jwt=, keeps the token and cleans the address bar.
      await page.locator('#load').click();
      await signInAtIdpAsAlice(page);
      await page.waitForURL((url) => url.origin === spaOrigin);
      await expect.poll(() => page.url()).toBe(`${spaOrigin}/`);
      await expect(loadReports(page)).resolves.toEqual({ reports: REPORTS });

      // A JSON POST with the token header: preflighted, answered by Gatehouse, then sent.
      const created = await fetchInPage(page, '/reports', jsonPost({ title: 'Q1' }), 'spa-api');
      expect(created).toMatchObject({ status: 201, body: { created: { title: 'Q1' } } });
      expect(created.requestId).toMatch(/\S/);
      const user = await fetchInPage(page, '/.pomerium/user', {}, 'spa-api');
      expect(user).toMatchObject({ status: 200, body: { email: 'alice@example.com' } });

      // Only the header carried the session: the browser holds no session cookie at all, and the API
      // never saw the token.
      expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain('_pomerium');
      expect(apiSawSince(mark)).toEqual(['GET /reports', 'POST /reports']);
      for (const request of api.requests.slice(mark)) {
        expect(request.headers['x-pomerium-authorization']).toBeUndefined();
      }

      // A route whose cors policy does not allow the header: the preflight is refused, nothing is sent.
      const token = await page.evaluate(() =>
        (globalThis as unknown as SpaStorage).sessionStorage.getItem('gatehouse_token'),
      );
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const beforeRefused = api.requests.length;
      await expect(
        fetchInPage(page, on(DATA_WITHOUT_TOKEN_HEADER, '/reports'), {
          headers: { 'x-pomerium-authorization': token ?? '' },
        }),
      ).resolves.toEqual({ error: BLOCKED });
      expect(apiSawSince(beforeRefused)).toEqual([]);
      await expect.poll(() => preflightStatuses(DATA_WITHOUT_TOKEN_HEADER)).toEqual([403]);

      // Signing out with the header token ends the session: the token is refused from then on.
      const signOut = await fetchInPage(page, '/.pomerium/sign_out', { method: 'POST' }, 'spa-api');
      expect(signOut).toMatchObject({ status: 200, body: { signed_out: true } });
      await expect(fetchInPage(page, '/reports', {}, 'spa-api')).resolves.toMatchObject({ status: 401 });
      await context.close();
    });
  });
});
