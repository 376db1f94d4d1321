/**
 * A running `gatehouse --config FILE` process picks up config changes the ways operators make them (saving
 * the file, an editor's or Kubernetes' write-and-rename, SIGHUP), refuses a bad reload while it keeps
 * serving, and drains in-flight requests on SIGTERM.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { plainHttpConfig, publicRoute } from '../harness/gatehouse.js';
import {
  cleanUpCli,
  FREE_PORT_ENV,
  pollUntil,
  startCli,
  startCliWithConfig,
  tempConfig,
  type ListeningCli,
} from '../harness/process.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../harness/upstream.js';

let upstream: TestUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(cleanUpCli);
afterAll(() => upstream.close());

/** A public route to `to` for each host. */
function routesYaml(hosts: readonly string[], to = upstream.url): string {
  return plainHttpConfig(...hosts.map((host) => publicRoute(`http://${host}`, to)));
}

const statusOf = async (gatehouse: ListeningCli, host: string) =>
  (await send(gatehouse.port, '/', { host })).status;

function untilAnswers(gatehouse: ListeningCli, host: string): Promise<void> {
  return pollUntil(`${host} answers 200`, async () => (await statusOf(gatehouse, host)) === 200);
}

describe('config reload of a running process', () => {
  it('adds a route when the file is rewritten in place', async () => {
    const gatehouse = await startCliWithConfig(routesYaml(['a.gatehouse.test']));
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
    expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(404);

    gatehouse.config.write(routesYaml(['a.gatehouse.test', 'b.gatehouse.test']));
    await untilAnswers(gatehouse, 'b.gatehouse.test');
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
    await gatehouse.waitForLine('stdout', /"msg":"config reloaded"/);
  });

  it('adds a route when a new file is renamed over the config, as editors and Kubernetes do', async () => {
    const gatehouse = await startCliWithConfig(routesYaml(['a.gatehouse.test']));
    expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(404);

    gatehouse.config.replace(routesYaml(['b.gatehouse.test']));
    await untilAnswers(gatehouse, 'b.gatehouse.test');
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(404);

    // The watch survives the rename: a second replacement is seen too.
    gatehouse.config.replace(routesYaml(['c.gatehouse.test']));
    await untilAnswers(gatehouse, 'c.gatehouse.test');
  });

  it('keeps the old routes and logs every problem when the new file is invalid', async () => {
    const gatehouse = await startCliWithConfig(routesYaml(['a.gatehouse.test']));
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);

    gatehouse.config.write(`insecure_server: true
log_level: verbose
routes:
  - from: http://b.gatehouse.test
    to: ftp://files.internal
    allow_public_unauthenticated_access: true
`);
    await gatehouse.waitForLine('stdout', /config reload refused/);
    const refusal = gatehouse.logs().find((log) => String(log.msg).startsWith('config reload refused'));
    expect(refusal?.level).toBe('error');
    expect(refusal?.problems).toEqual([
      expect.stringMatching(/^log_level: /),
      expect.stringMatching(/^routes\[0\]\.to: scheme "ftp"/),
    ]);
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
    expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(404);

    // A fixed file is picked up again afterwards.
    gatehouse.config.write(routesYaml(['b.gatehouse.test']));
    await untilAnswers(gatehouse, 'b.gatehouse.test');
  });

  it('reloads on SIGHUP a change the file watch cannot see', async () => {
    // The config path is a symlink into another directory: a write to the target changes what the path
    // reads but raises no event in the watched directory, so only SIGHUP can apply it.
    const holder = tempConfig('');
    const targetDir = join(holder.dir, 'real');
    mkdirSync(targetDir);
    const target = join(targetDir, 'gatehouse.yaml');
    writeFileSync(target, routesYaml(['a.gatehouse.test']));
    const link = join(holder.dir, 'linked', 'gatehouse.yaml');
    mkdirSync(join(holder.dir, 'linked'));
    symlinkSync(target, link);
    const gatehouse = await startCli(['--config', link], { env: FREE_PORT_ENV });
    expect(await statusOf(gatehouse, 'b.gatehouse.test')).toBe(404);

    writeFileSync(target, routesYaml(['b.gatehouse.test']));
    gatehouse.kill('SIGHUP');
    await untilAnswers(gatehouse, 'b.gatehouse.test');
    expect(gatehouse.hasExited()).toBe(false);
  });

  it('survives a SIGHUP sent as soon as it announces it is listening', async () => {
    const gatehouse = await startCliWithConfig(routesYaml(['a.gatehouse.test']));
    gatehouse.kill('SIGHUP');
    await gatehouse.waitForLine('stdout', /"msg":"config reloaded"/);
    expect(await statusOf(gatehouse, 'a.gatehouse.test')).toBe(200);
  });
});

describe('SIGTERM', () => {
  let slowUpstream: TestUpstream;
  let arrived: () => void = () => {};
  let release: () => void = () => {};
  const hold: UpstreamHandler = (req, res) => {
    req.resume();
    release = () => res.end('finished after SIGTERM');
    res.writeHead(200, { 'content-type': 'text/plain' });
    arrived();
  };

  beforeAll(async () => {
    slowUpstream = await startUpstream(hold);
  });
  afterAll(() => slowUpstream.close());

  it('lets an in-flight request finish with 200, refuses new connections, then exits 0', async () => {
    const gatehouse = await startCliWithConfig(routesYaml(['slow.gatehouse.test'], slowUpstream.url));
    const upstreamReached = new Promise<void>((resolve) => (arrived = resolve));
    const inFlight = send(gatehouse.port, '/slow', { host: 'slow.gatehouse.test' });
    await upstreamReached;

    gatehouse.kill('SIGTERM');
    await gatehouse.waitForLine('stdout', /gatehouse stopping/);
    await expect(send(gatehouse.port, '/', { host: 'slow.gatehouse.test' })).rejects.toThrow(/ECONNREFUSED/);
    expect(gatehouse.hasExited()).toBe(false);

    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.body).toBe('finished after SIGTERM');
    expect(await gatehouse.exited).toEqual({ code: 0, signal: null });
    expect(gatehouse.logs().map((log) => log.msg)).toContain('gatehouse stopped');
  });
});
