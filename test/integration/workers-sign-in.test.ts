/**
 * Sign-in under `workers: 2`, through the real CLI: the workers share sessions, login transactions and
 * revocations through Redis, so a user signs in, uses the session on whichever worker takes the request,
 * and after signing out is refused by both. Sessions in one worker's memory would be unknown to the other,
 * so `workers: 2` with the memory store is refused when the config loads.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DevIdp } from '../../src/demo/dev-idp.js';
import { requestWithCookies, type HttpAnswer } from '../harness/idp.js';
import {
  cleanUpCli,
  pollUntil,
  runCli,
  startCliWithConfig,
  tempConfig,
  type ListeningCli,
} from '../harness/process.js';
import { assertSharedRedisUp, deleteKeysWithPrefix, uniqueKeyPrefix } from '../harness/redis.js';
import {
  ALICE,
  APP,
  identityConfig,
  postSignOut,
  redisStoreConfig,
  requestWithToken,
  signedInRoute,
  signedInSession,
  startSignInIdp,
} from '../harness/sign-in.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

const prefix = uniqueKeyPrefix();
let port: number;
let idp: DevIdp;
let upstream: TestUpstream;

beforeAll(async () => {
  await assertSharedRedisUp();
  // The CLI listens on a port chosen now, so the IdP can register its callback.
  port = await unusedPort();
  idp = await startSignInIdp({ port, callbackHosts: [APP] });
  upstream = await startUpstream();
});
afterEach(cleanUpCli);
afterAll(async () => {
  await idp?.close();
  await upstream?.close();
  await deleteKeysWithPrefix(prefix);
});

/** Two workers, sign-in required on APP. */
function workersYaml(store: string): string {
  const routes = `routes:\n${signedInRoute(`http://${APP}`, upstream.url)}`;
  return `workers: 2\n${identityConfig(idp.issuer, `${store}${routes}`)}`;
}

const url = (path: string) => new URL(`http://${APP}:${port}${path}`);

/** Each request on a fresh connection, so the primary hands them to the workers in turn. */
const withHeader = (path: string, token: string): Promise<HttpAnswer> => requestWithToken(url(path), token);

/** The workers whose access log shows `path` answered with `status`. */
function workersAnswering(gatehouse: ListeningCli, path: string, status: number): Set<unknown> {
  return new Set(
    gatehouse
      .logs()
      .filter((log) => log.msg === 'request' && log.path === path && log.status === status)
      .map((log) => log.worker),
  );
}

describe('workers: 2 with the Redis store', () => {
  it('shares one session between both workers, and a sign-out on one ends it on both', async () => {
    const gatehouse = await startCliWithConfig(workersYaml(redisStoreConfig(prefix)), {
      ADDRESS: `127.0.0.1:${port}`,
    });
    // The login transaction and the session each pass between workers: sign-in spans several requests.
    const { jar, token } = await signedInSession(url('/'), ALICE, idp);

    for (let request = 0; request < 10; request += 1) {
      expect((await requestWithCookies(url('/in'), jar)).status).toBe(200);
      expect((await withHeader('/in', token)).status).toBe(200);
    }
    await pollUntil('both workers logged serving the session', () =>
      Promise.resolve(workersAnswering(gatehouse, '/in', 200).size === 2),
    );
    expect(workersAnswering(gatehouse, '/in', 200)).toEqual(new Set([1, 2]));

    const signOut = await postSignOut(url('/.pomerium/sign_out'), jar);
    expect(signOut.status).toBe(200);
    // The worker that did not sign out drops its cached copy when the revocation message arrives.
    await pollUntil(
      'the token is refused',
      async () => (await withHeader('/out', token)).status === 401,
      1000,
    );
    for (let request = 0; request < 10; request += 1) {
      expect((await withHeader('/out', token)).status).toBe(401);
    }
    await pollUntil('both workers logged refusing the token', () =>
      Promise.resolve(workersAnswering(gatehouse, '/out', 401).size === 2),
    );
    expect(workersAnswering(gatehouse, '/out', 200)).toEqual(new Set());
  });
});

describe('workers: 2 with the memory store', () => {
  it('is refused when the config loads, naming databroker_storage_type', async () => {
    const config = tempConfig(workersYaml(''));
    const result = await runCli(['--config', config.path], { env: { ADDRESS: `127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: the configuration is invalid:\n/);
    expect(result.stderr).toMatch(/ {2}workers: .*databroker_storage_type: redis/);
  });
});
