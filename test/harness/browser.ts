import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); `.ci/run` installs it. */
const CHROMIUM_CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

function findChromium(): string {
  for (const candidate of CHROMIUM_CANDIDATES) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  // Browser tests never skip themselves: a missing browser is a broken setup, not a passing suite.
  throw new Error(
    `Chromium not found at ${CHROMIUM_CANDIDATES.join(' or ')}: run apt-get install -y chromium`,
  );
}

/**
 * Headless Chromium with every `*.example.test` name resolving to loopback, so tests can use real,
 * distinct host names (and therefore real origins and cookie scopes) against servers on 127.0.0.1.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP *.example.test 127.0.0.1',
    ],
  });
}
