/**
 * CORS config that cannot be safe is refused at load with the reason (DESIGN 5, rule 7), through the real
 * config parser and through `gatehouse check-config` as a user runs it; what is allowed but risky or
 * redundant is warned about at every load and start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { formatProblem, parseConfig } from '../../src/config/parse.js';
import { cleanUpCli, REPO_ROOT, runCli, startCliWithConfig } from '../harness/process.js';

const fixture = (name: string) => `${REPO_ROOT}test/fixtures/cors/${name}`;

afterAll(async () => {
  await cleanUpCli();
});

/** The problems parseConfig reports for one public route with these extra keys. */
function problemsOf(routeKeys: string): string[] {
  const result = parseConfig({
    text: `insecure_server: true
routes:
  - from: https://api.example.com
    to: http://127.0.0.1:9
    allow_public_unauthenticated_access: true
${routeKeys}`,
    fileName: 'gatehouse.yaml',
    env: {},
    readFile: () => {
      throw new Error('no files in these tests');
    },
  });
  return result.ok ? [] : result.problems.map(formatProblem);
}

/** The problem lines (`  key.path: message`) check-config printed under its heading. */
function problemLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());
}

describe('parseConfig refuses a cors policy', () => {
  it.each([
    [
      'that allows any origin with credentials',
      '    cors: { allowed_origins: ["*"], allow_credentials: true }',
      /^routes\[0\]\.cors\.allowed_origins: allows any origin with allow_credentials: any website could act as the signed-in user/,
    ],
    [
      'that allows null with credentials',
      '    cors: { allowed_origins: ["null"], allow_credentials: true }',
      /^routes\[0\]\.cors\.allowed_origins: allows null with allow_credentials/,
    ],
    [
      'that exposes * with credentials',
      '    cors: { allowed_origins: ["https://app.example.com"], exposed_headers: ["*"], allow_credentials: true }',
      /^routes\[0\]\.cors\.exposed_headers: cannot be \* with allow_credentials/,
    ],
    [
      'that allows the method * with credentials',
      '    cors: { allowed_origins: ["https://app.example.com"], allowed_methods: ["*"], allow_credentials: true }',
      /^routes\[0\]\.cors\.allowed_methods: cannot be \* with allow_credentials/,
    ],
    [
      'with a negative max_age',
      '    cors: { allowed_origins: ["https://app.example.com"], max_age: -600 }',
      /^routes\[0\]\.cors\.max_age: must be 0 or more seconds, not -600$/,
    ],
    [
      'with a regex that does not compile',
      '    cors: { allowed_origins: ["/^https://[a-z+\\\\.example\\\\.com$/"] }',
      /^routes\[0\]\.cors\.allowed_origins\[0\]: is not a valid regular expression/,
    ],
    [
      'with an origin that ends in a slash',
      '    cors: { allowed_origins: ["https://app.example.com/"] }',
      /^routes\[0\]\.cors\.allowed_origins\[0\]: must not end with "\/": browsers send https:\/\/app\.example\.com$/,
    ],
    [
      'with a wildcard that is not a whole first label',
      '    cors: { allowed_origins: ["https://*example.com"] }',
      /^routes\[0\]\.cors\.allowed_origins\[0\]: may only have a wildcard as its first label/,
    ],
    [
      'with a method that is not a token',
      '    cors: { allowed_origins: ["https://app.example.com"], allowed_methods: ["GET,PUT"] }',
      /^routes\[0\]\.cors\.allowed_methods\[0\]: is not a valid method token$/,
    ],
    [
      'with an allowed header that is not a header name',
      '    cors: { allowed_origins: ["https://app.example.com"], allowed_headers: ["X Token"] }',
      /^routes\[0\]\.cors\.allowed_headers\[0\]: is not a valid header name$/,
    ],
    [
      'with an exposed header that is not a header name',
      '    cors: { allowed_origins: ["https://app.example.com"], exposed_headers: ["X-Id:"] }',
      /^routes\[0\]\.cors\.exposed_headers\[0\]: is not a valid header name$/,
    ],
    [
      'next to Access-Control-* in the route’s set_response_headers',
      '    set_response_headers: { Access-Control-Allow-Credentials: "true" }\n    cors: { allowed_origins: ["https://app.example.com"] }',
      /^routes\[0\]\.set_response_headers\.Access-Control-Allow-Credentials: sets a CORS header next to a cors policy/,
    ],
  ])('%s', (_note, routeKeys, message) => {
    expect(problemsOf(`${routeKeys}\n`)).toEqual([expect.stringMatching(message)]);
  });
});

describe('loading a config file', () => {
  it('refuses every malformed entry of a policy under its own path', () => {
    const result = loadConfigFile(fixture('malformed-policies.yaml'), {});
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      'routes[0].cors.allowed_origins[0]: is not a valid regular expression: Unterminated group',
      'routes[0].cors.allowed_origins[1]: must not end with "/": browsers send https://app.example.com',
      'routes[0].cors.allowed_origins[2]: may only have a wildcard as its first label, like https://*.example.com',
      'routes[0].cors.allowed_methods[1]: is not a valid method token',
      'routes[0].cors.allowed_headers[1]: is not a valid header name',
      'routes[0].cors.exposed_headers[0]: is not a valid header name',
    ]);
  });
});

describe.concurrent('the gatehouse CLI', () => {
  it('check-config refuses every unsafe policy of a file at once, saying why, with exit 1', async () => {
    const result = await runCli(['check-config', fixture('unsafe-policies.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unsafe-policies.yaml: 6 problem(s)');
    expect(problemLines(result.stderr)).toEqual([
      expect.stringMatching(/^routes\[0\]\.cors\.allowed_origins: allows any origin with allow_credentials/),
      expect.stringMatching(/^routes\[1\]\.cors\.allowed_origins: allows null with allow_credentials/),
      expect.stringMatching(/^routes\[2\]\.cors\.exposed_headers: cannot be \*/),
      expect.stringMatching(/^routes\[2\]\.cors\.allowed_methods: cannot be \*/),
      'routes[2].cors.max_age: must be 0 or more seconds, not -1',
      expect.stringMatching(
        /^routes\[3\]\.set_response_headers\.Access-Control-Allow-Origin: sets a CORS header/,
      ),
    ]);
  });

  it('check-config accepts the echo mode and cors_allow_preflight next to cors, warning about each', async () => {
    const result = await runCli(['check-config', fixture('warned-policies.yaml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('warned-policies.yaml: valid');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
      'warning: routes[0].cors.allow_any_origin_with_credentials: echoes any origin with credentials: every website can read this route as the signed-in user',
      'warning: routes[1].cors_allow_preflight: is redundant next to cors: the cors policy answers preflights itself',
    ]);
  });

  it('gatehouse run logs the echo-mode warning when it starts', async () => {
    const cli = await startCliWithConfig(`insecure_server: true
routes:
  - from: http://open-api.example.test
    to: http://127.0.0.1:9
    allow_public_unauthenticated_access: true
    cors: { allowed_origins: ["*"], allow_credentials: true, allow_any_origin_with_credentials: true }
`);
    const line = await cli.waitForLine('stdout', /config warning/);
    expect(JSON.parse(line)).toMatchObject({
      msg: 'config warning',
      config: expect.stringMatching(
        /^routes\[0\]\.cors\.allow_any_origin_with_credentials: echoes any origin/,
      ) as unknown,
    });
    await cli.stop();
  });
});
