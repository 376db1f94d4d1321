/**
 * The `gatehouse` command line as a user meets it: exit codes (0 ok, 1 bad config or failed start, 2 wrong
 * command line), every config problem named by its key path, and never a stack trace.
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { publicRoute } from '../harness/gatehouse.js';
import {
  FREE_PORT_ENV,
  REPO_ROOT,
  cleanUpCli,
  killCliProcesses,
  runCli,
  startCli,
  tempConfig,
  type CliResult,
  type TempConfig,
} from '../harness/process.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'config');
const fixture = (name: string) => join(FIXTURES, name);
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** A V8 stack frame as Node prints it. */
const STACK_FRAME = /^ {4}at /m;

afterAll(cleanUpCli);

/** One `check-config` run per fixture, shared by the tests that read its output. */
const checked = new Map<string, Promise<CliResult>>();
function checkFixture(name: string): Promise<CliResult> {
  let result = checked.get(name);
  if (result === undefined) {
    result = runCli(['check-config', fixture(name)]);
    checked.set(name, result);
  }
  return result;
}

/** A config file with one public route; `globals` are more top-level keys. */
function publicRouteConfig(globals = ''): TempConfig {
  const route = publicRoute('http://app.gatehouse.test', 'http://127.0.0.1:9');
  return tempConfig(`insecure_server: true\n${globals}routes:\n${route}`);
}

async function occupyPort(): Promise<net.Server & { port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** The problem lines (`  key.path: message`) check-config printed under its `N problem(s)` heading. */
function problemLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());
}

describe.concurrent('gatehouse check-config', () => {
  it('refuses five-mistakes.yaml with exit 1 and all five problems, each under its key path', async () => {
    const result = await checkFixture('five-mistakes.yaml');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('five-mistakes.yaml: 5 problem(s)');
    const problems = problemLines(result.stderr);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^log_level: .*"verbose"/);
    expect(problems[1]).toMatch(/^routes\[0\]\.from: .*"\/api"/);
    expect(problems[2]).toMatch(/^routes\[1\]\.to: .*"ftp"/);
    expect(problems[3]).toMatch(/^routes\[2\]: .*prefix and regex/);
    expect(problems[4]).toMatch(/^routes\[3\]\.regex_rewrite_pattern: .*regular expression/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('accepts a valid config with exit 0 and summarizes its routes', async () => {
    const result = await checkFixture('valid-tls.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid-tls.yaml: valid');
    expect(result.stdout).toContain('listening on 127.0.0.1:8443 with TLS');
    expect(result.stdout).toMatch(
      /^routes\[0\] https:\/\/app\.gatehouse\.test \/api \(prefix\) → http:\/\/api:8080\S* \[public, websockets\]$/m,
    );
    expect(result.stdout).toMatch(
      /^routes\[1\] https:\/\/docs\.gatehouse\.test .* → http:\/\/docs-1:8080\S*, http:\/\/docs-2:8080\S* \[public\]$/m,
    );
    expect(result.stderr).toBe('');
  });

  /** Each single-mistake fixture and the line that must name its key (the full texts are in load.test.ts). */
  const singleMistakes: readonly (readonly [string, RegExp])[] = [
    ['wrong-type.yaml', /^insecure_server: .*"yes"/],
    ['from-with-path.yaml', /^routes\[0\]\.from: .*"\/api"/],
    ['two-matchers.yaml', /^routes\[0\]: .*prefix and path/],
    ['prefix-rewrite-and-regex-rewrite.yaml', /^routes\[0\]: .*prefix_rewrite and regex_rewrite_pattern/],
    ['invalid-regex.yaml', /^routes\[0\]\.regex: .*regular expression/],
    ['unsupported-scheme.yaml', /^routes\[0\]\.to: .*"ftp"/],
    ['port-out-of-range.yaml', /^address: .*"70000"/],
    ['unreadable-file.yaml', /^certificate_file: cannot read tls\/missing-cert\.pem: no such file$/],
    ['pomerium-only-key.yaml', /^autocert: .*Pomerium setting/],
  ];

  it.each(singleMistakes)('refuses %s with exit 1 and a message naming the key', async (name, line) => {
    const result = await checkFixture(name);
    expect(result.code).toBe(1);
    expect(problemLines(result.stderr)).toContainEqual(expect.stringMatching(line));
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('gives each single-mistake fixture a different message', async () => {
    const results = await Promise.all(singleMistakes.map(([name]) => checkFixture(name)));
    const messages = results.map((result) => problemLines(result.stderr).join('\n'));
    expect(new Set(messages).size).toBe(singleMistakes.length);
  });

  it('shows the line and column of each YAML syntax error', async () => {
    const result = await checkFixture('malformed-yaml.yaml');
    expect(result.code).toBe(1);
    const problems = problemLines(result.stderr);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const problem of problems) expect(problem).toMatch(/malformed-yaml\.yaml line \d+, column \d+: \S/);
  });

  it('warns about unknown keys by path and still exits 0', async () => {
    const result = await checkFixture('unknown-key.yaml');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: favourite_colour: unknown key, ignored');
    expect(result.stderr).toContain('warning: routes[0].nickname: unknown key, ignored');
    expect(result.stdout).toContain('unknown-key.yaml: valid');
  });

  it('names a config file that does not exist', async () => {
    const missing = fixture('no-such-file.yaml');
    const result = await runCli(['check-config', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot read ${missing}: no such file`);
  });

  it('applies environment overrides before validating', async () => {
    const result = await runCli(['check-config', fixture('valid-insecure.yaml')], {
      env: { ADDRESS: '127.0.0.1:9999', LOG_LEVEL: 'loud' },
    });
    expect(result.code).toBe(1);
    expect(problemLines(result.stderr)).toContainEqual(expect.stringMatching(/^log_level: .*"loud"/));
  });
});

describe('gatehouse.example.yaml', () => {
  const example = join(REPO_ROOT, 'gatehouse.example.yaml');
  const secret = () => Buffer.alloc(32, 5).toString('base64');

  it('is valid once the secrets come from the environment, and says how it signs users in', async () => {
    const result = await runCli(['check-config', example], {
      env: { IDP_CLIENT_SECRET: 'from-the-environment', SHARED_SECRET: secret(), COOKIE_SECRET: secret() },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('sign-in with https://accounts.example.com; sessions in redis');
    expect(result.stdout).toContain('[domains example.com]');
  });

  it('holds no secret of its own: without the environment every missing secret is named', async () => {
    const result = await runCli(['check-config', example]);
    expect(result.code).toBe(1);
    expect(problemLines(result.stderr)).toEqual([
      expect.stringMatching(/^idp_client_secret: is required/),
      expect.stringMatching(/^shared_secret: is required/),
      expect.stringMatching(/^cookie_secret: is required/),
    ]);
  });
});

describe.concurrent('gatehouse command line', () => {
  it('prints the package.json version for --version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`gatehouse ${PACKAGE_VERSION}\n`);
  });

  it('prints the usage for --help with exit 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage:/);
    expect(result.stdout).toContain('gatehouse check-config FILE');
  });

  it.each([
    ['an unknown command', ['serve-everything'], /unknown command "serve-everything"/],
    ['an unknown option', ['--frobnicate'], /--frobnicate/],
    ['check-config without a file', ['check-config'], /check-config needs a FILE/],
  ])('exits 2 with the usage for %s', async (_name, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage:');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 2 with a hint when no config is given', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no config given: use --config FILE or GATEHOUSE_CONFIG=FILE');
  });
});

describe('gatehouse --config', () => {
  afterEach(killCliProcesses);

  it('exits 1 listing every problem of an invalid config, without a stack trace', async () => {
    const result = await runCli(['--config', fixture('five-mistakes.yaml')], { env: FREE_PORT_ENV });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the configuration is invalid');
    const problems = problemLines(result.stderr);
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual([
      'log_level',
      'routes[0].from',
      'routes[1].to',
      'routes[2]',
      'routes[3].regex_rewrite_pattern',
    ]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 1 naming the port when the port is already in use', async () => {
    const taken = await occupyPort();
    try {
      const result = await runCli(['--config', publicRouteConfig().path], {
        env: { ADDRESS: `127.0.0.1:${taken.port}` },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`127.0.0.1:${taken.port}`);
      expect(result.stderr).toContain('already in use');
      expect(result.stderr).not.toMatch(STACK_FRAME);
    } finally {
      taken.close();
    }
  });

  it('lets ADDRESS in the environment win over address in the file', async () => {
    const taken = await occupyPort();
    try {
      const config = publicRouteConfig(`address: 127.0.0.1:${taken.port}\n`);
      const gatehouse = await startCli(['--config', config.path], { env: FREE_PORT_ENV });
      expect(gatehouse.port).not.toBe(taken.port);
      expect((await send(gatehouse.port, '/', { host: 'unknown.gatehouse.test' })).status).toBe(404);
      expect((await gatehouse.stop()).code).toBe(0);
    } finally {
      taken.close();
    }
  });

  it('lets LOG_LEVEL in the environment win over log_level in the file', async () => {
    const config = publicRouteConfig('log_level: error\n');
    const quiet = await startCli(['--config', config.path], { env: FREE_PORT_ENV });
    expect((await send(quiet.port, '/', { host: 'unknown.gatehouse.test' })).status).toBe(404);
    expect((await quiet.stop()).code).toBe(0);
    expect(quiet.logs()).toEqual([]);

    const chatty = await startCli(['--config', config.path], {
      env: { ...FREE_PORT_ENV, LOG_LEVEL: 'info' },
    });
    expect((await send(chatty.port, '/', { host: 'unknown.gatehouse.test' })).status).toBe(404);
    expect((await chatty.stop()).code).toBe(0);
    expect(chatty.logs().map((log) => log.msg)).toContain('gatehouse listening');
  });

  it('serves the config named by GATEHOUSE_CONFIG when --config is absent', async () => {
    const config = publicRouteConfig();
    const gatehouse = await startCli([], { env: { ...FREE_PORT_ENV, GATEHOUSE_CONFIG: config.path } });
    expect(gatehouse.url.href).toBe(`http://127.0.0.1:${gatehouse.port}/`);
    expect((await send(gatehouse.port, '/', { host: 'unknown.gatehouse.test' })).status).toBe(404);
    expect((await gatehouse.stop()).code).toBe(0);
  });

  it('stops gracefully with exit 0 on a SIGTERM sent as soon as it announces it is listening', async () => {
    const gatehouse = await startCli(['--config', publicRouteConfig().path], { env: FREE_PORT_ENV });
    expect(await gatehouse.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
