// The session behind the signed-in target. No sign-in happens in the benchmark (it never talks to an IdP):
// this process creates the session with Gatehouse's own built modules, in the same Redis, under the same
// key prefix and with keys derived from the same secrets as the generated config, so Gatehouse finds and
// accepts its token exactly as it would one it had minted after a sign-in.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The shared Redis the integration tests use; loopback only, like everything else in the benchmark. */
export const REDIS = { host: '127.0.0.1', port: 6379 };
export const REDIS_URL = `redis://${REDIS.host}:${REDIS.port}`;

/**
 * Fresh per run: `shared_secret` and `cookie_secret` (32 random bytes in base64, as Pomerium documents
 * them) and a key prefix no other run shares, so the benchmark's keys can be found and deleted, and only
 * those. Hex keeps the prefix free of Redis glob characters.
 */
export function newBenchIdentity() {
  return {
    sharedSecret: randomBytes(32).toString('base64'),
    cookieSecret: randomBytes(32).toString('base64'),
    keyPrefix: `gatehouse-bench-${randomBytes(8).toString('hex')}:`,
  };
}

/**
 * Stores a session for a user `bench` and returns its token, the value of `X-Pomerium-Authorization`.
 * The session lasts `ttlMs` (its record expires with it), so keys a killed run leaves behind do not outlive
 * the run by long. `close` releases the store; deleting the keys is `deleteKeysWithPrefix`'s job.
 */
export async function createBenchSession({ repoRoot, identity, ttlMs }) {
  const load = (file) => import(pathToFileURL(path.join(repoRoot, 'dist', file)).href);
  const [
    { createSessionService },
    { createStore },
    { decodeCheckedSecret, deriveAuthKeys },
    { systemClock },
  ] = await Promise.all([
    load('auth/session-service.js'),
    load('store/create-store.js'),
    load('auth/secrets.js'),
    load('shared/clock.js'),
  ]);
  const store = await createStore({
    type: 'redis',
    connectionString: REDIS_URL,
    keyPrefix: identity.keyPrefix,
    clock: systemClock,
  });
  try {
    const keys = deriveAuthKeys({
      sharedSecret: decodeCheckedSecret(identity.sharedSecret),
      previousSharedSecrets: [],
      cookieSecret: decodeCheckedSecret(identity.cookieSecret),
    });
    const sessions = await createSessionService({ store, keys, clock: systemClock, sessionTtlMs: ttlMs });
    const { token } = await sessions.create({
      userId: 'bench',
      email: 'bench@example.com',
      groups: [],
      claims: {},
      tokens: {},
    });
    await sessions.close();
    return { token, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Deletes every key under `prefix` from the shared Redis and returns how many there were. Synchronous
 * (redis-cli), so that it can run in an `exit` handler however the benchmark ends.
 */
export function deleteKeysWithPrefix(prefix) {
  const cli = ['-h', REDIS.host, '-p', String(REDIS.port)];
  const scan = spawnSync('redis-cli', [...cli, '--scan', '--pattern', `${prefix}*`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (scan.status !== 0) throw new Error(`redis-cli --scan failed: ${scan.stderr || scan.error?.message}`);
  const keys = scan.stdout.split('\n').filter((key) => key !== '');
  for (let start = 0; start < keys.length; start += 500) {
    const unlink = spawnSync('redis-cli', [...cli, 'UNLINK', ...keys.slice(start, start + 500)], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (unlink.status !== 0)
      throw new Error(`redis-cli UNLINK failed: ${unlink.stderr || unlink.error?.message}`);
  }
  return keys.length;
}
