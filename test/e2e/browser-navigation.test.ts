import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../harness/browser.js';
import { startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

/**
 * What a person with a real browser sees: pages navigated to get HTML, while the same errors fetched by a
 * script come back as JSON the script can read — decided from the headers Chromium really sends.
 */
describe('a real browser through Gatehouse', () => {
  let browser: Browser;
  let upstream: TestUpstream;
  let gatehouse: TestGatehouse;
  let origin: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    gatehouse = await startGatehouse(`
insecure_server: true
routes:
  - from: http://app.example.test
    prefix: /api
    prefix_rewrite: /
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
`);
    origin = `http://app.example.test:${gatehouse.port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
    await upstream?.close();
  });

  it('shows the upstream answer for a route, with the prefix rewritten', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/api/hello?x=1`);
    expect(response?.status()).toBe(200);
    const body = JSON.parse(await page.locator('body').innerText()) as { url: string };
    expect(body.url).toBe('/hello?x=1');
    await page.close();
  });

  it('shows an HTML 404 page when navigating to a path no route serves', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/nowhere`);
    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-type']).toContain('text/html');
    await expect(page.locator('h1').innerText()).resolves.toBe('404 Not found');
    await expect(page.locator('code').innerText()).resolves.toBe(response?.headers()['x-request-id']);
    await page.close();
  });

  it('shows an HTML 404 page for a host no route serves', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`http://unknown.example.test:${gatehouse.port}/api/hello`);
    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-type']).toContain('text/html');
    expect(upstream.requests.some((request) => request.headers.host?.startsWith('unknown.'))).toBe(false);
    await page.close();
  });

  it('answers a script fetch() of the same missing path with JSON it can read', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/api/`);
    const result = await page.evaluate(async () => {
      const response = await fetch('/nowhere');
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: await response.json(),
      };
    });
    expect(result.status).toBe(404);
    expect(result.type).toContain('application/json');
    expect(result.body).toMatchObject({ error: 'route_not_found', code: 'ERR_ROUTE_NOT_FOUND' });
    await page.close();
  });
});
