/**
 * Redis for integration tests. The shared server on 127.0.0.1:6379 must be running (tests fail, never skip,
 * without it); each test file uses its own key prefix and deletes only its own keys. Private servers on free
 * ports — one server, a Sentinel setup, a Cluster — are for tests that stop Redis or need another topology;
 * the shared one is never stopped. Tests reach Redis through the store or redis-cli: ioredis has one
 * importer, src/store/redis-store.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SHARED_REDIS = { host: '127.0.0.1', port: 6379 } as const;
export const SHARED_REDIS_URL = `redis://${SHARED_REDIS.host}:${SHARED_REDIS.port}`;
const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const NO_PERSISTENCE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/** A prefix no other test run shares, e.g. `gatehouse-test:3f2a…:`. */
export function uniqueKeyPrefix(): string {
  return `gatehouse-test:${randomUUID()}:`;
}

/** Fails with instructions when the shared Redis does not answer PING. */
export async function assertSharedRedisUp(): Promise<void> {
  if (!(await answersPing(SHARED_REDIS.port))) {
    throw new Error(
      `integration tests need Redis at ${SHARED_REDIS.host}:${SHARED_REDIS.port} (start it with \`redis-server\`)`,
    );
  }
}

/** Deletes the keys under `prefix` on the shared Redis; returns how many there were. */
export async function deleteKeysWithPrefix(prefix: string): Promise<number> {
  const cli = ['-h', SHARED_REDIS.host, '-p', String(SHARED_REDIS.port)];
  const { stdout } = await run('redis-cli', [...cli, '--scan', '--pattern', `${escapeGlob(prefix)}*`]);
  const keys = stdout.split('\n').filter((key) => key !== '');
  for (let start = 0; start < keys.length; start += 500) {
    await run('redis-cli', [...cli, 'UNLINK', ...keys.slice(start, start + 500)]);
  }
  return keys.length;
}

export interface PrivateRedis {
  readonly port: number;
  readonly connectionString: string;
  /** Shuts the server down (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, like a network black hole. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
}

/** A throwaway redis-server on a free loopback port, without persistence. Stop it in afterAll. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = await startServer(await findFreePort(), NO_PERSISTENCE);
  return { ...server, connectionString: `redis://127.0.0.1:${server.port}` };
}

export interface PrivateTopology {
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** A master requiring `password` and one Sentinel watching it as `mymaster`. */
export async function startPrivateSentinel(password: string): Promise<PrivateTopology> {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-sentinel-'));
  const master = await startServer(await findFreePort(), [...NO_PERSISTENCE, '--requirepass', password]);
  const sentinelPort = await findFreePort();
  // Sentinel rewrites its config file, so it needs one of its own in a writable directory.
  const configFile = join(directory, 'sentinel.conf');
  writeFileSync(
    configFile,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${directory}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      // A double-quoted config value takes the same escapes as a JSON string.
      `sentinel auth-pass mymaster ${JSON.stringify(password)}`,
      '',
    ].join('\n'),
  );
  const stopped: { stop(): Promise<void> }[] = [master];
  const stop = async (): Promise<void> => {
    await Promise.all(stopped.map((server) => server.stop()));
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    stopped.push(await startServer(sentinelPort, [], [configFile, '--sentinel']));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    connectionString: `redis+sentinel://:${encodeURIComponent(password)}@127.0.0.1:${sentinelPort}/mymaster/1`,
    stop,
  };
}

/** Three masters sharing the 16384 slots, created with `redis-cli --cluster create`. */
export async function startPrivateCluster(): Promise<PrivateTopology> {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  const nodes = await Promise.all(
    [0, 1, 2].map(async () => {
      const port = await findFreePort();
      // The bus port defaults to port + 10000, which a high ephemeral port would push past 65535.
      const busPort = await findFreePort();
      return startServer(port, [
        ...NO_PERSISTENCE,
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        join(directory, `nodes-${port}.conf`),
        '--dir',
        directory,
      ]);
    }),
  );
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    await waitUntil(async () => {
      const states = await Promise.all(
        nodes.map(
          async (node) => (await run('redis-cli', ['-p', String(node.port), 'CLUSTER', 'INFO'])).stdout,
        ),
      );
      return states.every((info) => info.includes('cluster_state:ok'));
    }, 'the cluster did not become ready');
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString: `redis+cluster://${addresses.join(',')}`, stop };
}

/** One redis-server (or sentinel) child process that can be stopped, restarted on its port, and frozen. */
async function startServer(
  port: number,
  options: string[],
  leadingArgs: string[] = [],
): Promise<Omit<PrivateRedis, 'connectionString'>> {
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error(`redis-server on port ${port} is already running`);
    const started = spawn(REDIS_SERVER, [...leadingArgs, '--port', String(port), ...options], {
      stdio: 'ignore',
    });
    child = started;
    try {
      await waitUntil(
        async () => started.exitCode === null && (await answersPing(port)),
        `redis-server on port ${port} did not start`,
      );
    } catch (error) {
      started.kill('SIGKILL');
      child = undefined;
      throw error;
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    // A frozen server must run again to act on SIGTERM.
    running.kill('SIGCONT');
    await exited;
  };

  const signal = (name: NodeJS.Signals): void => {
    if (child === undefined) throw new Error(`redis-server on port ${port} is not running`);
    child.kill(name);
  };

  await start();
  return {
    port,
    start,
    stop,
    freeze: () => {
      signal('SIGSTOP');
    },
    thaw: () => {
      signal('SIGCONT');
    },
  };
}

async function waitUntil(condition: () => Promise<boolean>, failure: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Speaks just enough RESP to send PING and read `+PONG` (or the NOAUTH a password-protected server sends). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

/** Redis SCAN patterns are globs; a prefix is matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
