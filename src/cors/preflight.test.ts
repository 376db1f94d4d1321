import { describe, expect, it } from 'vitest';
import { corsSchema } from '../config/schema.js';
import { compileCorsPolicy, type CorsPolicy } from './policy.js';
import { answerPreflight, isPreflight, parseHeaderList, type PreflightRequest } from './preflight.js';

const APP = 'https://app.example.com';

function policyOf(block: Record<string, unknown>): CorsPolicy {
  return compileCorsPolicy(corsSchema.parse({ allowed_origins: [APP], ...block }));
}

function ask(policy: CorsPolicy, request: Partial<PreflightRequest> = {}) {
  return answerPreflight(policy, {
    origin: APP,
    requestMethod: 'PUT',
    requestHeaders: undefined,
    requestPrivateNetwork: undefined,
    ...request,
  });
}

const API = policyOf({
  allowed_methods: ['GET', 'PUT', 'DELETE'],
  allowed_headers: ['Content-Type', 'X-Pomerium-Authorization'],
  allow_credentials: true,
  max_age: 600,
});

describe('isPreflight', () => {
  it('is OPTIONS with an Origin and a non-empty Access-Control-Request-Method', () => {
    expect(isPreflight('OPTIONS', APP, 'PUT')).toBe(true);
  });

  it.each([
    ['no Origin', 'OPTIONS', undefined, 'PUT'],
    ['no Access-Control-Request-Method', 'OPTIONS', APP, undefined],
    ['an empty Access-Control-Request-Method', 'OPTIONS', APP, ''],
    ['another method', 'GET', APP, 'PUT'],
    ['options in lower case, which is another method', 'options', APP, 'PUT'],
  ])('is not a preflight with %s', (_note, method, origin, requestMethod) => {
    expect(isPreflight(method, origin, requestMethod)).toBe(false);
  });
});

describe('parseHeaderList', () => {
  it.each([
    ['nothing', undefined, []],
    ['one name, lower-cased', 'Content-Type', ['content-type']],
    ['a comma list', 'content-type,x-pomerium-authorization', ['content-type', 'x-pomerium-authorization']],
    ['spaces around items', '  content-type ,   x-a  ', ['content-type', 'x-a']],
    ['empty items', ',content-type,, ,x-a,', ['content-type', 'x-a']],
    ['only commas', ' , ,', []],
    ['several field lines', ['content-type', 'X-A, x-b'], ['content-type', 'x-a', 'x-b']],
    ['tabs as whitespace', '\tcontent-type\t,x-a', ['content-type', 'x-a']],
  ] as const)('reads %s', (_note, value, names) => {
    expect(parseHeaderList(value)).toEqual(names);
  });

  it.each([
    ['a space inside a name', 'x a'],
    ['a colon', 'x-a: 1'],
    ['a quoted name', '"x-a"'],
    ['a slash', 'x/a'],
    ['non-ASCII', 'x-ä'],
  ])('refuses an item that is not a header name: %s', (_note, value) => {
    expect(parseHeaderList(value)).toBeUndefined();
  });
});

describe('answerPreflight: allowed', () => {
  it('answers the exact headers: echoed origin, credentials, the method, the names, max-age, Vary', () => {
    const answer = ask(API, { requestHeaders: 'Content-Type, X-Pomerium-Authorization' });
    expect(answer).toEqual({
      allowed: true,
      headers: {
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'content-type, x-pomerium-authorization',
        'access-control-max-age': '600',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    });
  });

  it('leaves out Allow-Headers when none are asked for, and credentials and max-age when not configured', () => {
    const answer = ask(policyOf({ allowed_methods: ['PUT'] }));
    expect(answer.allowed).toBe(true);
    expect(Object.keys(answer.headers).sort()).toEqual([
      'access-control-allow-methods',
      'access-control-allow-origin',
      'vary',
    ]);
  });

  it('answers * for a public policy', () => {
    const answer = ask(policyOf({ allowed_origins: ['*'], allowed_methods: ['PUT'] }), {
      origin: 'https://anywhere.example',
    });
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('echoes the origin with credentials in the explicit echo mode', () => {
    const policy = policyOf({
      allowed_origins: ['*'],
      allowed_methods: ['PUT'],
      allow_credentials: true,
      allow_any_origin_with_credentials: true,
    });
    const answer = ask(policy, { origin: 'https://anywhere.example' });
    expect(answer.headers['access-control-allow-origin']).toBe('https://anywhere.example');
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
  });

  it.each(['GET', 'HEAD', 'POST'])('always allows the CORS-safelisted method %s', (method) => {
    const answer = ask(policyOf({ allowed_methods: ['DELETE'] }), { requestMethod: method });
    expect(answer.allowed).toBe(true);
    expect(answer.headers['access-control-allow-methods']).toBe(method);
  });

  it('allows any method for allowed_methods: [*]', () => {
    expect(ask(policyOf({ allowed_methods: ['*'] }), { requestMethod: 'PROPFIND' }).allowed).toBe(true);
  });

  it('matches header names case-insensitively and names each once', () => {
    const answer = ask(API, { requestHeaders: ['CONTENT-TYPE', 'content-type, X-POMERIUM-AUTHORIZATION'] });
    expect(answer.allowed).toBe(true);
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, x-pomerium-authorization');
  });

  it('reads a tolerant list: spaces, empty items and several lines', () => {
    const answer = ask(API, { requestHeaders: [' , content-type ,, ', '', 'x-pomerium-authorization,'] });
    expect(answer.allowed).toBe(true);
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, x-pomerium-authorization');
  });

  it('allows any header but Authorization for allowed_headers: [*]', () => {
    const policy = policyOf({ allowed_methods: ['PUT'], allowed_headers: ['*'] });
    expect(ask(policy, { requestHeaders: 'x-anything, content-type' })).toMatchObject({
      allowed: true,
      headers: { 'access-control-allow-headers': 'x-anything, content-type' },
    });
    expect(ask(policy, { requestHeaders: 'x-anything, Authorization' })).toMatchObject({
      allowed: false,
      reason: 'header authorization is not allowed',
    });
  });

  it('allows Authorization when it is listed by name next to *', () => {
    const policy = policyOf({ allowed_methods: ['PUT'], allowed_headers: ['*', 'Authorization'] });
    expect(ask(policy, { requestHeaders: 'authorization, x-b' }).allowed).toBe(true);
  });

  it('answers a private network preflight when allowed, and varies on that header', () => {
    const policy = policyOf({ allowed_methods: ['PUT'], allow_private_network: true });
    const answer = ask(policy, { requestPrivateNetwork: 'true' });
    expect(answer.allowed).toBe(true);
    expect(answer.headers['access-control-allow-private-network']).toBe('true');
    expect(answer.headers.vary).toBe(
      'Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network',
    );
    // Not asked: not answered.
    expect(ask(policy).headers['access-control-allow-private-network']).toBeUndefined();
  });
});

describe('answerPreflight: refused', () => {
  it.each([
    ['an origin that is not allowed', { origin: 'https://evilexample.com' }, 'origin'],
    ['a method that is not allowed', { requestMethod: 'PATCH' }, 'method PATCH'],
    ['an allowed method in another case', { requestMethod: 'put' }, 'method put'],
    ['a safelisted method in another case', { requestMethod: 'get' }, 'method get'],
    ['a method that is not a token', { requestMethod: 'PU T' }, 'not a method'],
    ['a header that is not allowed', { requestHeaders: 'content-type, x-other' }, 'header x-other'],
    ['Authorization when it is not listed', { requestHeaders: 'authorization' }, 'header authorization'],
    ['a header list with a malformed item', { requestHeaders: 'content-type, x y' }, 'not a list'],
    ['private network access that is not allowed', { requestPrivateNetwork: 'true' }, 'private network'],
  ] as const)('refuses %s, with no Access-Control-* header', (_note, request, reason) => {
    const answer = ask(API, request);
    expect(answer.allowed).toBe(false);
    if (answer.allowed) return;
    expect(answer.reason).toContain(reason);
    expect(answer.headers).toEqual({
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
  });

  it('ignores Access-Control-Request-Private-Network with a value other than true', () => {
    expect(ask(API, { requestPrivateNetwork: 'false' }).allowed).toBe(true);
  });
});
