/**
 * What a newcomer sees after `npm start`, in a real browser: the demo's single-page app at /app/ says
 * nobody is signed in and its API call gets a 401 it can read; its "Sign in" link goes through the bundled
 * IdP and back to the app, which then shows alice and gets the API's answer; "Sign out" ends it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../harness/browser.js';
import { FREE_PORT_ENV, killCliProcesses, spawnCli, type CliProcess } from '../harness/process.js';

/** Waits until the element's text contains `text` (the page fills it from a fetch), then returns it. */
async function textOnceItContains(page: Page, selector: string, text: string): Promise<string> {
  await page.locator(selector, { hasText: text }).waitFor({ timeout: 5000 });
  return page.locator(selector).innerText();
}

describe('the demo single-page app in a browser', () => {
  let browser: Browser;
  let demo: CliProcess;
  let app: string;

  beforeAll(async () => {
    demo = spawnCli(['demo'], { env: FREE_PORT_ENV });
    const line = await demo.waitForLine('stderr', /Open http:\/\/localhost:\d+\/api\/ in a browser/);
    const port = /localhost:(\d+)/.exec(line)?.[1] ?? '';
    app = `http://localhost:${port}/app/`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop('SIGTERM');
    await killCliProcesses();
  });

  it('signs in through the bundled IdP from the app and calls the protected API', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app);
    expect(await textOnceItContains(page, '#who', 'Nobody is signed in: the API will answer 401.')).toBe(
      'Nobody is signed in: the API will answer 401.',
    );
    await page.getByRole('button', { name: 'Call /api/' }).click();
    await textOnceItContains(page, '#out', '401');
    expect(await page.locator('#out').innerText()).toContain('"login_url"');

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /alice@example\.com/ }).click();
    await page.waitForURL(app);
    expect(await textOnceItContains(page, '#who', 'Signed in as alice@example.com (admins, staff)')).toBe(
      'Signed in as alice@example.com (admins, staff)',
    );
    await page.getByRole('button', { name: 'Call /api/' }).click();
    await textOnceItContains(page, '#out', 'HELLO WORLD');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/public\/$/);
    await page.goto(app);
    expect(await textOnceItContains(page, '#who', 'Nobody is signed in: the API will answer 401.')).toBe(
      'Nobody is signed in: the API will answer 401.',
    );
    await context.close();
  });
});
