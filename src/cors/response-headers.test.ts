import { describe, expect, it } from 'vitest';
import { corsSchema } from '../config/schema.js';
import { compileCorsPolicy, type CorsPolicy } from './policy.js';
import { applyCorsHeaders, mergeVary, type MutableHeaders } from './response-headers.js';

const APP = 'https://app.example.com';

function policyOf(block: Record<string, unknown>): CorsPolicy {
  return compileCorsPolicy(corsSchema.parse(block));
}

const CREDENTIALED = policyOf({
  allowed_origins: [APP],
  allow_credentials: true,
  exposed_headers: ['X-Request-Id', 'X-Subject-Token'],
});
const PUBLIC = policyOf({ allowed_origins: ['*'], exposed_headers: ['X-Request-Id'] });

function applied(policy: CorsPolicy, origin: string | undefined, headers: MutableHeaders): MutableHeaders {
  const copy = { ...headers };
  applyCorsHeaders(policy, origin, copy);
  return copy;
}

describe('mergeVary', () => {
  it.each([
    ['no Vary', undefined, 'Origin'],
    ['an empty Vary', '', 'Origin'],
    ['Vary: Accept-Encoding', 'Accept-Encoding', 'Accept-Encoding, Origin'],
    ['Vary already naming Origin', 'Accept-Encoding, Origin', 'Accept-Encoding, Origin'],
    ['Vary naming origin in lower case', 'origin', 'origin'],
    ['Vary: *, which already varies on everything', '*', '*'],
    ['a list with empty items and spaces', ' , Accept-Encoding ,, ', 'Accept-Encoding, Origin'],
    [
      'several Vary lines',
      ['Accept-Encoding', 'Accept-Language'],
      'Accept-Encoding, Accept-Language, Origin',
    ],
    ['several lines, one of them *', ['Accept-Encoding', '*'], ['Accept-Encoding', '*']],
  ] as const)('merges Origin into %s', (_note, vary, merged) => {
    const headers: MutableHeaders = vary === undefined ? {} : { vary: vary as string | string[] };
    mergeVary(headers, 'Origin');
    expect(headers.vary).toEqual(merged);
  });
});

describe('applyCorsHeaders', () => {
  it('echoes an allowed origin with credentials and exposed headers, and varies on Origin', () => {
    expect(applied(CREDENTIALED, APP, { 'content-type': 'application/json' })).toEqual({
      'content-type': 'application/json',
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Request-Id, X-Subject-Token',
      vary: 'Origin',
    });
  });

  it('gives a disallowed origin no CORS headers, but still varies on Origin', () => {
    expect(applied(CREDENTIALED, 'https://evilexample.com', { 'content-type': 'text/plain' })).toEqual({
      'content-type': 'text/plain',
      vary: 'Origin',
    });
  });

  it('varies on Origin for a request without one, since an allowed origin gets another answer', () => {
    expect(applied(CREDENTIALED, undefined, {})).toEqual({ vary: 'Origin' });
  });

  it('merges Origin into the upstream’s Vary: Accept-Encoding and leaves Vary: * alone', () => {
    expect(applied(CREDENTIALED, APP, { vary: 'Accept-Encoding' }).vary).toBe('Accept-Encoding, Origin');
    expect(applied(CREDENTIALED, APP, { vary: '*' }).vary).toBe('*');
  });

  it('removes every Access-Control-* header the upstream set, allowed origin or not', () => {
    const upstream: MutableHeaders = {
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'false',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': '*',
      'access-control-expose-headers': 'X-Secret',
      'access-control-max-age': '86400',
      'x-kept': 'yes',
    };
    expect(applied(CREDENTIALED, APP, upstream)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Request-Id, X-Subject-Token',
      'x-kept': 'yes',
      vary: 'Origin',
    });
    expect(applied(CREDENTIALED, 'https://evil.example', upstream)).toEqual({
      'x-kept': 'yes',
      vary: 'Origin',
    });
  });

  it('answers * on every response of a public policy, with or without Origin, and adds no Vary', () => {
    const expected = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'X-Request-Id' };
    expect(applied(PUBLIC, 'https://anywhere.example', {})).toEqual(expected);
    expect(applied(PUBLIC, 'null', {})).toEqual(expected);
    // Fetch, "CORS protocol and HTTP caches": a response fetched without Origin may be served from a
    // cache to a script later, so it carries * too.
    expect(applied(PUBLIC, undefined, {})).toEqual(expected);
    expect(applied(PUBLIC, undefined, { vary: 'Accept-Encoding' }).vary).toBe('Accept-Encoding');
  });

  it('replaces an upstream’s echoed origin on a public policy', () => {
    expect(
      applied(PUBLIC, APP, {
        'access-control-allow-origin': APP,
        'access-control-allow-credentials': 'true',
      }),
    ).toEqual({ 'access-control-allow-origin': '*', 'access-control-expose-headers': 'X-Request-Id' });
  });

  it('sends no Allow-Credentials and no Expose-Headers when the policy has none', () => {
    const policy = policyOf({ allowed_origins: [APP] });
    expect(applied(policy, APP, {})).toEqual({ 'access-control-allow-origin': APP, vary: 'Origin' });
  });

  it('echoes the origin byte for byte in the explicit echo mode', () => {
    const policy = policyOf({
      allowed_origins: ['*'],
      allow_credentials: true,
      allow_any_origin_with_credentials: true,
    });
    expect(applied(policy, 'http://localhost:5173', {})).toEqual({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    expect(applied(policy, 'null', {})).toEqual({ vary: 'Origin' });
  });
});
