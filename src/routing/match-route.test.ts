import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { compileRoutes, type RouteTable } from './compile-routes.js';
import { matchRoute } from './match-route.js';

function table(routes: Record<string, unknown>[]): RouteTable {
  return compileRoutes(
    configSchema.parse({ routes: routes.map((route) => ({ to: 'http://upstream:8080', ...route })) }).routes,
  );
}

interface HostCase {
  note: string;
  pattern: string;
  host: string;
  matches: boolean;
}

const wildcardHosts = JSON.parse(
  readFileSync(new URL('../../test/fixtures/wildcard-hosts.json', import.meta.url), 'utf8'),
) as HostCase[];

describe('matchRoute', () => {
  const routes = table([
    { name: 'spa-api', from: 'https://app.example.com', prefix: '/api' },
    { name: 'spa', from: 'https://app.example.com' },
    { name: 'health', from: 'https://*.example.com', path: '/healthz' },
    { name: 'tenants', from: 'https://*.example.com:8443', regex: '/t/[a-z]+' },
  ]);
  const nameOf = (hostname: string, port: number | undefined, path: string) =>
    matchRoute(routes, hostname, port, path)?.name;

  it('picks the first route in config order whose host and path match', () => {
    expect(nameOf('app.example.com', undefined, '/api/users')).toBe('spa-api');
    expect(nameOf('app.example.com', undefined, '/apiary')).toBe('spa');
    expect(nameOf('app.example.com', undefined, '/healthz')).toBe('spa');
  });

  it('moves on when the host matches but the path does not', () => {
    expect(nameOf('other.example.com', undefined, '/healthz')).toBe('health');
    expect(nameOf('other.example.com', 8443, '/t/acme')).toBe('tenants');
  });

  it('returns undefined instead of falling back to the first route', () => {
    expect(nameOf('other.example.com', undefined, '/')).toBeUndefined();
    expect(nameOf('example.com', undefined, '/healthz')).toBeUndefined();
    expect(nameOf('evil.net', undefined, '/api')).toBeUndefined();
    expect(nameOf('other.example.com', 443, '/t/acme')).toBeUndefined();
    expect(matchRoute(table([]), 'app.example.com', undefined, '/')).toBeUndefined();
  });

  it.each(wildcardHosts)(
    '$note: a route from $pattern for host $host: $matches',
    ({ pattern, host, matches }) => {
      const route = matchRoute(table([{ from: `https://${pattern}` }]), host, undefined, '/');
      expect(route !== undefined).toBe(matches);
    },
  );
});
