import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from './parse.js';
import { formatPath } from './problem.js';
import { routeSchema } from './schema.js';
import { validateCors } from './validate-cors.js';

const APP = 'https://app.example.com';

function route(fields: Record<string, unknown>) {
  return routeSchema.parse({
    from: 'https://api.gatehouse.test',
    to: 'http://api:3000',
    allow_public_unauthenticated_access: true,
    ...fields,
  });
}

function checked(...routes: Record<string, unknown>[]) {
  const check = validateCors(routes.map(route));
  const lines = (list: typeof check.problems) =>
    list.map(({ path, message }) => `${formatPath(path)}: ${message}`);
  return { problems: lines(check.problems), warnings: lines(check.warnings) };
}

describe('validateCors: accepted', () => {
  it('accepts a route without cors and a credentialed policy over listed origins', () => {
    expect(
      checked({}, { cors: { allowed_origins: [APP, 'https://*.example.com'], allow_credentials: true } }),
    ).toEqual({ problems: [], warnings: [] });
  });

  it('accepts * in origins, methods and exposed headers without credentials', () => {
    expect(
      checked({
        cors: { allowed_origins: ['*'], allowed_methods: ['*'], exposed_headers: ['*'], max_age: 0 },
      }),
    ).toEqual({ problems: [], warnings: [] });
  });

  it('accepts * in allowed_headers with credentials: the requested names are echoed, never *', () => {
    expect(
      checked({ cors: { allowed_origins: [APP], allowed_headers: ['*'], allow_credentials: true } }),
    ).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it('accepts Access-Control-* in set_response_headers on a route without cors (Pomerium’s guide)', () => {
    expect(
      checked({
        cors_allow_preflight: true,
        set_response_headers: {
          'Access-Control-Allow-Origin': APP,
          'Access-Control-Allow-Credentials': 'true',
        },
      }),
    ).toEqual({ problems: [], warnings: [] });
  });
});

describe('validateCors: refused', () => {
  it('refuses any origin with credentials unless the echo mode is asked for', () => {
    expect(checked({ cors: { allowed_origins: ['*'], allow_credentials: true } }).problems).toEqual([
      'routes[0].cors.allowed_origins: allows any origin with allow_credentials: any website could act as the ' +
        'signed-in user. List the origins, or set allow_any_origin_with_credentials: true for an open API that means it',
    ]);
  });

  it('refuses null with credentials', () => {
    expect(checked({ cors: { allowed_origins: [APP, 'null'], allow_credentials: true } }).problems).toEqual([
      'routes[0].cors.allowed_origins: allows null with allow_credentials: sandboxed frames and data: pages of any site send Origin: null',
    ]);
  });

  it('refuses * in exposed headers and in methods with credentials', () => {
    expect(
      checked({
        cors: {
          allowed_origins: [APP],
          allowed_methods: ['GET', '*'],
          exposed_headers: ['*'],
          allow_credentials: true,
        },
      }).problems,
    ).toEqual([
      'routes[0].cors.exposed_headers: cannot be * with allow_credentials: browsers read it as a header named "*"; list the names',
      'routes[0].cors.allowed_methods: cannot be * with allow_credentials: browsers read it as a method named "*"; list the methods',
    ]);
  });

  it('refuses a negative max_age', () => {
    expect(checked({ cors: { allowed_origins: [APP], max_age: -1 } }).problems).toEqual([
      'routes[0].cors.max_age: must be 0 or more seconds, not -1',
    ]);
  });

  it('refuses Access-Control-* in set_response_headers next to cors, in any case', () => {
    expect(
      checked({
        cors: { allowed_origins: [APP] },
        set_response_headers: {
          'access-control-allow-origin': '*',
          'X-Frame-Options': 'DENY',
          'ACCESS-CONTROL-MAX-AGE': '1',
        },
      }).problems,
    ).toEqual([
      'routes[0].set_response_headers.access-control-allow-origin: sets a CORS header next to a cors policy, which answers CORS itself; remove it (or the cors block)',
      'routes[0].set_response_headers.ACCESS-CONTROL-MAX-AGE: sets a CORS header next to a cors policy, which answers CORS itself; remove it (or the cors block)',
    ]);
  });

  it('refuses allow_any_origin_with_credentials where it does not apply', () => {
    const message =
      'routes[0].cors.allow_any_origin_with_credentials: only applies with "*" in allowed_origins and allow_credentials: true';
    expect(
      checked({
        cors: { allowed_origins: [APP], allow_credentials: true, allow_any_origin_with_credentials: true },
      }).problems,
    ).toEqual([message]);
    expect(
      checked({ cors: { allowed_origins: ['*'], allow_any_origin_with_credentials: true } }).problems,
    ).toEqual([message]);
  });

  it('names the route each problem belongs to', () => {
    expect(checked({}, { cors: { allowed_origins: [APP], max_age: -5 } }).problems).toEqual([
      'routes[1].cors.max_age: must be 0 or more seconds, not -5',
    ]);
  });
});

describe('validateCors: warnings', () => {
  it('warns at every load about the echo mode, which lets any website act as the user', () => {
    expect(
      checked({
        cors: { allowed_origins: ['*'], allow_credentials: true, allow_any_origin_with_credentials: true },
      }),
    ).toEqual({
      problems: [],
      warnings: [
        'routes[0].cors.allow_any_origin_with_credentials: echoes any origin with credentials: every website can read this route as the signed-in user',
      ],
    });
  });

  it('warns that cors_allow_preflight is redundant next to cors', () => {
    expect(checked({ cors: { allowed_origins: [APP] }, cors_allow_preflight: true })).toEqual({
      problems: [],
      warnings: [
        'routes[0].cors_allow_preflight: is redundant next to cors: the cors policy answers preflights itself',
      ],
    });
  });
});

describe('parseConfig: cors keys', () => {
  const parse = (routeKeys: string) =>
    parseConfig({
      text: `insecure_server: true
routes:
  - from: https://api.gatehouse.test
    to: http://api:3000
    allow_public_unauthenticated_access: true
${routeKeys}`,
      fileName: 'gatehouse.yaml',
      env: {},
      readFile: () => {
        throw new Error('no files here');
      },
    });

  it('loads a cors block and cors_allow_preflight with their defaults', () => {
    const result = parse(`    cors_allow_preflight: false
    cors:
      allowed_origins: ["${APP}"]
`);
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    const [loaded] = result.config.routes;
    expect(loaded?.cors_allow_preflight).toBe(false);
    expect(loaded?.cors).toEqual({
      allowed_origins: [{ kind: 'exact', origin: APP }],
      allowed_methods: ['GET', 'HEAD', 'POST'],
      allowed_headers: [],
      exposed_headers: [],
      allow_credentials: false,
      allow_private_network: false,
      allow_any_origin_with_credentials: false,
    });
    expect(result.warnings).toEqual([]);
  });

  it('reports every problem of a cors block under its path, and warns about keys it does not know', () => {
    const result = parse(`    cors:
      allowed_origins: ["https://app.example.com/", "/(/"]
      allowed_methods: ["GE T"]
      allowed_headers: ["X Y"]
      shared: true
`);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      'routes[0].cors.allowed_origins[0]: must not end with "/": browsers send https://app.example.com',
      'routes[0].cors.allowed_origins[1]: is not a valid regular expression: Unterminated group',
      'routes[0].cors.allowed_methods[0]: is not a valid method token',
      'routes[0].cors.allowed_headers[0]: is not a valid header name',
    ]);
    expect(result.warnings.map(formatProblem)).toEqual(['routes[0].cors.shared: unknown key, ignored']);
  });

  it('refuses a cors block without origins', () => {
    const result = parse(`    cors:
      allowed_origins: []
`);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/routes\[0\]\.cors\.allowed_origins: needs at least one origin$/),
    ]);
  });

  it('refuses a max_age that is not a whole number of seconds', () => {
    const result = parse(`    cors:
      allowed_origins: ["${APP}"]
      max_age: 1.5
`);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/routes\[0\]\.cors\.max_age: /),
    ]);
  });
});
