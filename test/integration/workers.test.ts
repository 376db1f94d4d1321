/**
 * `workers: N` runs Gatehouse on N processes behind one primary (node:cluster): they share the listening
 * socket, reload together on SIGHUP, stop together on SIGTERM, and a worker that dies is replaced — until
 * workers die too often.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { plainHttpConfig, publicRoute } from '../harness/gatehouse.js';
import {
  childProcessIds,
  cleanUpCli,
  FREE_PORT_ENV,
  pollUntil,
  runCli,
  startCli,
  startCliWithConfig,
  tempConfig,
  type ListeningCli,
} from '../harness/process.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

let upstream: TestUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(cleanUpCli);
afterAll(() => upstream.close());

/** Two workers, with a public route to the upstream for each host. */
function twoWorkersYaml(hosts: readonly string[]): string {
  return `workers: 2\n${plainHttpConfig(...hosts.map((host) => publicRoute(`http://${host}`, upstream.url)))}`;
}

/** Each request on a fresh connection, so the primary hands them to the workers in turn. */
const statusOf = async (gatehouse: ListeningCli, host: string) =>
  (await send(gatehouse.port, '/', { host })).status;

/** The `worker` ids of the log lines with message `msg`. */
function workerIdsLogging(gatehouse: ListeningCli, msg: string): Set<unknown> {
  return new Set(gatehouse.logs().flatMap((log) => (log.msg === msg ? [log.worker] : [])));
}

function untilWorkerCount(gatehouse: ListeningCli, count: number): Promise<void> {
  return pollUntil(`${count} workers run`, () =>
    Promise.resolve(childProcessIds(gatehouse.pid).length === count),
  );
}

describe('workers: 2', () => {
  it('runs a primary and two workers, and announces the URL once', async () => {
    const gatehouse = await startCliWithConfig(twoWorkersYaml(['a.gatehouse.test']));
    expect(childProcessIds(gatehouse.pid)).toHaveLength(2);
    // Log lines reach stdout within the logger's periodic flush.
    await pollUntil('both workers logged that they listen', () =>
      Promise.resolve(workerIdsLogging(gatehouse, 'gatehouse listening').size === 2),
    );
    expect(workerIdsLogging(gatehouse, 'gatehouse listening')).toEqual(new Set([1, 2]));
    expect(gatehouse.output('stderr').match(/gatehouse listening on/g)).toHaveLength(1);
  });

  it('serves requests from both workers, each access line naming its worker', async () => {
    const gatehouse = await startCliWithConfig(twoWorkersYaml(['a.gatehouse.test']));
    for (let i = 0; i < 10; i += 1) expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
    await pollUntil('both workers logged a request', () =>
      Promise.resolve(workerIdsLogging(gatehouse, 'request').size === 2),
    );
    expect(workerIdsLogging(gatehouse, 'request')).toEqual(new Set([1, 2]));
  });

  it('reloads every worker on SIGHUP', async () => {
    // The config path is a symlink into another directory, so the file watch cannot see the change and
    // only the forwarded SIGHUP can apply it (as in process-reload.test.ts).
    const holder = tempConfig('');
    mkdirSync(join(holder.dir, 'real'));
    mkdirSync(join(holder.dir, 'linked'));
    const target = join(holder.dir, 'real', 'gatehouse.yaml');
    const link = join(holder.dir, 'linked', 'gatehouse.yaml');
    writeFileSync(target, twoWorkersYaml(['a.gatehouse.test']));
    symlinkSync(target, link);
    const gatehouse = await startCli(['--config', link], { env: FREE_PORT_ENV });
    expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(404);

    writeFileSync(target, twoWorkersYaml(['b.gatehouse.test']));
    gatehouse.kill('SIGHUP');
    await pollUntil('both workers reloaded', () =>
      Promise.resolve(workerIdsLogging(gatehouse, 'config reloaded').size === 2),
    );
    for (let i = 0; i < 10; i += 1) expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(200);
    expect(gatehouse.hasExited()).toBe(false);
  });

  it('stops every worker on SIGTERM and exits 0 with no process left behind', async () => {
    const gatehouse = await startCliWithConfig(twoWorkersYaml(['a.gatehouse.test']));
    const workers = childProcessIds(gatehouse.pid);
    expect(workers).toHaveLength(2);

    expect(await gatehouse.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(workers.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
    expect(workerIdsLogging(gatehouse, 'gatehouse stopped')).toEqual(new Set([1, 2, undefined]));
  });

  it('replaces a worker that is killed and keeps serving', async () => {
    const gatehouse = await startCliWithConfig(twoWorkersYaml(['a.gatehouse.test']));
    const [victim] = childProcessIds(gatehouse.pid);
    process.kill(victim ?? 0, 'SIGKILL');

    await gatehouse.waitForLine('stdout', /"msg":"worker died; started a replacement"/);
    await pollUntil('the replacement listens', () =>
      Promise.resolve(workerIdsLogging(gatehouse, 'gatehouse listening').has(3)),
    );
    expect(childProcessIds(gatehouse.pid)).not.toContain(victim);
    await untilWorkerCount(gatehouse, 2);
    for (let i = 0; i < 10; i += 1) expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
  });

  it('gives up and exits 1 when workers keep dying', async () => {
    const gatehouse = await startCliWithConfig(twoWorkersYaml(['a.gatehouse.test']));
    for (let death = 1; death <= 5; death += 1) {
      await untilWorkerCount(gatehouse, 2);
      const [victim] = childProcessIds(gatehouse.pid);
      process.kill(victim ?? 0, 'SIGKILL');
      await pollUntil(`death ${death} is seen`, () =>
        Promise.resolve(gatehouse.hasExited() || !childProcessIds(gatehouse.pid).includes(victim ?? 0)),
      );
    }
    expect(await gatehouse.exited).toEqual({ code: 1, signal: null });
    expect(gatehouse.output('stderr')).toMatch(/gatehouse: 5 workers died within 10 s; stopping/);
  });
});

describe('the workers key', () => {
  it('refuses workers: 0 by its path before starting anything', async () => {
    const config = tempConfig(`workers: 0\n${plainHttpConfig()}`);
    const result = await runCli(['--config', config.path], { env: FREE_PORT_ENV });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gatehouse: the configuration is invalid:\n {2}workers: /);
  });
});
