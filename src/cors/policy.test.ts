import { describe, expect, it } from 'vitest';
import { fixturePolicy, readOriginFixture } from '../../test/harness/cors.js';
import { corsSchema } from '../config/schema.js';
import { compileCorsPolicy, type CorsPolicy } from './policy.js';

const fixture = readOriginFixture();

/** A route's `cors:` block as the config parser reads it, compiled. */
function policyOf(block: Record<string, unknown>): CorsPolicy {
  return compileCorsPolicy(corsSchema.parse(block));
}

describe('allowsOrigin', () => {
  it.each(fixture.cases)('$policy: $note ($origin) → $allowed', ({ policy, origin, allowed }) => {
    expect(policyOf(fixturePolicy(fixture, policy)).allowsOrigin(origin)).toBe(allowed);
  });

  it('allows an origin when any of several entries matches it', () => {
    const policy = policyOf({
      allowed_origins: [
        'https://app.example.com',
        'https://*.example.net',
        '/^http://localhost:\\d+$/',
        'null',
      ],
    });
    expect(policy.allowsOrigin('https://app.example.com')).toBe(true);
    expect(policy.allowsOrigin('https://x.example.net')).toBe(true);
    expect(policy.allowsOrigin('http://localhost:5173')).toBe(true);
    expect(policy.allowsOrigin('null')).toBe(true);
    expect(policy.allowsOrigin('https://example.net')).toBe(false);
    expect(policy.allowsOrigin('http://localhost:5173/')).toBe(false);
  });

  it('matches an exact entry written with upper case and its default port as the browser sends it', () => {
    const policy = policyOf({ allowed_origins: ['HTTPS://App.Example.COM:443'] });
    expect(policy.allowsOrigin('https://app.example.com')).toBe(true);
    expect(policy.allowsOrigin('HTTPS://App.Example.COM:443')).toBe(false);
  });

  it('matches a pattern written with the default port like one without', () => {
    const policy = policyOf({ allowed_origins: ['https://*.example.com:443'] });
    expect(policy.allowsOrigin('https://a.example.com')).toBe(true);
    expect(policy.allowsOrigin('https://a.example.com:443')).toBe(false);
  });

  it('matches IPv6 and punycode origins exactly', () => {
    const policy = policyOf({ allowed_origins: ['http://[::1]:8080', 'https://bücher.example'] });
    expect(policy.allowsOrigin('http://[::1]:8080')).toBe(true);
    expect(policy.allowsOrigin('https://xn--bcher-kva.example')).toBe(true);
    expect(policy.allowsOrigin('https://bücher.example')).toBe(false);
  });
});

describe('compileCorsPolicy', () => {
  it('is public (answered with *) only for any origin without credentials', () => {
    expect(policyOf({ allowed_origins: ['*'] }).isPublic).toBe(true);
    expect(policyOf({ allowed_origins: ['*', 'https://app.example.com'] }).isPublic).toBe(true);
    expect(policyOf({ allowed_origins: ['https://app.example.com'] }).isPublic).toBe(false);
    const echo = policyOf({
      allowed_origins: ['*'],
      allow_credentials: true,
      allow_any_origin_with_credentials: true,
    });
    expect(echo.isPublic).toBe(false);
    expect(echo.allowCredentials).toBe(true);
  });

  it('defaults to the CORS-safelisted methods, no extra headers, nothing exposed, no max-age', () => {
    const policy = policyOf({ allowed_origins: ['https://app.example.com'] });
    expect([...(policy.methods ?? [])]).toEqual(['GET', 'HEAD', 'POST']);
    expect(policy.headers.size).toBe(0);
    expect(policy.anyHeader).toBe(false);
    expect(policy.exposeHeaders).toBeUndefined();
    expect(policy.maxAge).toBeUndefined();
    expect(policy.allowCredentials).toBe(false);
    expect(policy.allowPrivateNetwork).toBe(false);
  });

  it('keeps methods as written (case-sensitive) and header names lower-cased', () => {
    const policy = policyOf({
      allowed_origins: ['https://app.example.com'],
      allowed_methods: ['PUT', 'patch'],
      allowed_headers: ['Content-Type', 'X-Pomerium-Authorization'],
    });
    expect(policy.methods?.has('PUT')).toBe(true);
    expect(policy.methods?.has('put')).toBe(false);
    expect(policy.methods?.has('patch')).toBe(true);
    expect(policy.methods?.has('PATCH')).toBe(false);
    expect([...policy.headers]).toEqual(['content-type', 'x-pomerium-authorization']);
  });

  it('reads * in methods as any method and * in headers as any header', () => {
    const policy = policyOf({
      allowed_origins: ['*'],
      allowed_methods: ['*'],
      allowed_headers: ['*', 'Authorization'],
    });
    expect(policy.methods).toBeUndefined();
    expect(policy.anyHeader).toBe(true);
    expect([...policy.headers]).toEqual(['authorization']);
  });

  it('joins exposed headers as written and keeps max_age and private network', () => {
    const policy = policyOf({
      allowed_origins: ['https://app.example.com'],
      exposed_headers: ['X-Request-Id', 'X-Subject-Token'],
      max_age: 600,
      allow_private_network: true,
    });
    expect(policy.exposeHeaders).toBe('X-Request-Id, X-Subject-Token');
    expect(policy.maxAge).toBe(600);
    expect(policy.allowPrivateNetwork).toBe(true);
  });
});
