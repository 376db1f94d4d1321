import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../harness/browser.js';
import { startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

/**
 * The cloud CORS proxy in a real browser (the Exosphere pattern): an SPA on app.example.test calls a
 * cloud API that sends no CORS headers through `https://proxy.example.test/proxy/…`, naming the cloud in
 * `exo-proxy-orig-host`/`-port`. Chromium sends the preflight, Gatehouse answers it from the route's
 * `cors:` policy, forwards the real request to the named host and adds the CORS headers, so the page reads
 * the JSON and the exposed `X-Subject-Token`. Through a proxy route without `cors:` the same fetch is
 * blocked by the browser.
 */
describe('the cloud CORS proxy in a real browser', () => {
  const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));

  let browser: Browser;
  let context: BrowserContext;
  let app: TestUpstream;
  let cloud: TestUpstream;
  let gatehouse: TestGatehouse;
  let appOrigin: string;
  let port: number;

  beforeAll(async () => {
    port = await unusedPort();
    appOrigin = `https://app.example.test:${port}`;
    app = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Cloud console</title><h1>Cloud console</h1>');
    });
    // Keystone's token API as a browser cannot call it directly: no Access-Control-* header at all.
    cloud = await startUpstream((req, res) => {
      req.resume();
      req.once('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'gAAAAAB-subject' });
        res.end(JSON.stringify({ token: { methods: ['password'], expires_at: '2030-01-01T00:00:00Z' } }));
      });
    });
    const proxyRoute = (from: string, cors: string) => `  - from: ${from}
    prefix: /proxy
    prefix_rewrite: /
    allow_public_unauthenticated_access: true
    dynamic_upstream:
      scheme: http
      allowed_hosts: [localhost]
      allowed_ports: [${cloud.port}]
      allow_private_addresses: true
${cors}`;
    gatehouse = await startGatehouse(
      `certificate_file: ${fixture('localhost-cert.pem')}
certificate_key_file: ${fixture('localhost-key.pem')}
routes:
  - from: https://app.example.test
    to: ${app.url}
    allow_public_unauthenticated_access: true
${proxyRoute(
  'https://proxy.example.test',
  `    cors:
      allowed_origins: [${appOrigin}]
      allowed_methods: [GET, POST]
      allowed_headers: [Content-Type, X-Auth-Token, OpenStack-API-Version, exo-proxy-orig-host, exo-proxy-orig-port]
      exposed_headers: [X-Subject-Token]
`,
)}${proxyRoute('https://bare-proxy.example.test', '')}`,
      { ADDRESS: `127.0.0.1:${port}` },
    );
    browser = await launchBrowser();
    // The certificate is self-signed.
    context = await browser.newContext({ ignoreHTTPSErrors: true });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gatehouse?.close();
    await cloud?.close();
    await app?.close();
  });

  async function openApp(): Promise<Page> {
    const page = await context.newPage();
    const response = await page.goto(`${appOrigin}/`);
    expect(response?.status()).toBe(200);
    return page;
  }

  interface TokenCall {
    readonly proxy: string;
    readonly cloudHost: string;
    readonly cloudPort: number;
  }

  interface TokenResult {
    readonly status?: number;
    readonly subjectToken?: string | null;
    readonly body?: unknown;
    readonly failure?: string;
  }

  /** What the SPA's script gets when it asks the cloud for a token through the proxy. */
  function requestToken(page: Page, call: TokenCall): Promise<TokenResult> {
    return page.evaluate(async ({ proxy, cloudHost, cloudPort }) => {
      try {
        const response = await fetch(`${proxy}/proxy/v3/auth/tokens`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'exo-proxy-orig-host': cloudHost,
            'exo-proxy-orig-port': String(cloudPort),
            'X-Auth-Token': 'unscoped-token',
            'OpenStack-API-Version': 'identity 3',
          },
          body: JSON.stringify({ auth: { identity: { methods: ['password'] } } }),
        });
        return {
          status: response.status,
          subjectToken: response.headers.get('X-Subject-Token'),
          body: await response.json(),
        };
      } catch (error) {
        return { failure: String(error) };
      }
    }, call);
  }

  it('lets the SPA read the cloud’s JSON and its X-Subject-Token through the proxy', async () => {
    const page = await openApp();
    const before = cloud.requests.length;
    const result = await requestToken(page, {
      proxy: `https://proxy.example.test:${port}`,
      cloudHost: 'localhost',
      cloudPort: cloud.port,
    });
    expect(result).toEqual({
      status: 201,
      subjectToken: 'gAAAAAB-subject',
      body: { token: { methods: ['password'], expires_at: '2030-01-01T00:00:00Z' } },
    });
    // Only the POST reached the cloud (Gatehouse answered the preflight), without the target headers.
    const reached = cloud.requests.slice(before);
    expect(reached.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v3/auth/tokens']);
    expect(reached[0]?.headers).toMatchObject({
      'x-auth-token': 'unscoped-token',
      'openstack-api-version': 'identity 3',
      host: `localhost:${cloud.port}`,
    });
    expect(reached[0]?.headers).not.toHaveProperty('exo-proxy-orig-host');
    expect(reached[0]?.headers).not.toHaveProperty('exo-proxy-orig-port');
    await page.close();
  });

  it('lets the SPA read why the proxy refused a cloud it does not allow', async () => {
    const page = await openApp();
    const result = await requestToken(page, {
      proxy: `https://proxy.example.test:${port}`,
      cloudHost: 'keystone.elsewhere.example',
      cloudPort: cloud.port,
    });
    expect(result).toMatchObject({
      status: 403,
      subjectToken: null,
      body: { code: 'ERR_DYNAMIC_UPSTREAM_REFUSED' },
    });
    await page.close();
  });

  it('without a cors: policy on the proxy route, the browser blocks the same call', async () => {
    const page = await openApp();
    const before = cloud.requests.length;
    const result = await requestToken(page, {
      proxy: `https://bare-proxy.example.test:${port}`,
      cloudHost: 'localhost',
      cloudPort: cloud.port,
    });
    expect(result).toEqual({ failure: 'TypeError: Failed to fetch' });
    expect(cloud.requests.length).toBe(before);
    await page.close();
  });
});
