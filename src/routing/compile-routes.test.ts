import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { compileRoutes, type CompiledRoute } from './compile-routes.js';

/** Builds one compiled route from raw config keys, through the real schema. */
function compile(route: Record<string, unknown>): CompiledRoute {
  const [parsed] = configSchema.parse({ routes: [{ to: 'http://upstream:8080', ...route }] }).routes;
  const [compiled] = compileRoutes(parsed === undefined ? [] : [parsed]).routes;
  if (compiled === undefined) throw new Error('the route did not compile');
  return compiled;
}

describe('compileRoutes', () => {
  it('keeps index, config and a name that defaults to the route position', () => {
    const parsed = configSchema.parse({
      routes: [
        { from: 'https://a.example.com', to: 'http://a:80' },
        { name: 'api', from: 'https://b.example.com', to: 'http://b:80' },
      ],
    }).routes;
    const { routes } = compileRoutes(parsed);
    expect(routes.map(({ index, name }) => ({ index, name }))).toEqual([
      { index: 0, name: 'routes[0]' },
      { index: 1, name: 'api' },
    ]);
    expect(routes[1]?.config).toBe(parsed[1]);
  });

  it('returns a frozen table', () => {
    const table = compileRoutes([]);
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.routes)).toBe(true);
  });
});

describe('CompiledRoute.matchesHost', () => {
  it.each([
    ['https://app.example.com', 'app.example.com', undefined, true],
    ['https://app.example.com', 'app.example.com', 8443, true],
    ['https://app.example.com', 'api.example.com', undefined, false],
    ['https://*.example.com', 'app.example.com', 443, true],
    ['https://*.example.com', 'example.com', undefined, false],
    ['https://app.example.com:8443', 'app.example.com', 8443, true],
    ['https://app.example.com:8443', 'app.example.com', 443, false],
    ['https://app.example.com:8443', 'app.example.com', undefined, false],
    ['https://app.example.com:443', 'app.example.com', undefined, true],
    ['https://app.example.com:443', 'app.example.com', 443, true],
    ['https://app.example.com:443', 'app.example.com', 80, false],
    ['http://app.example.com:80', 'app.example.com', undefined, true],
    ['http://app.example.com:443', 'app.example.com', undefined, false],
    ['https://app.example.com:80', 'app.example.com', undefined, false],
    ['https://[::1]:8443', '[::1]', 8443, true],
  ])('from %s against host %s and port %s: %s', (from, hostname, port, matches) => {
    expect(compile({ from }).matchesHost(hostname, port)).toBe(matches);
  });
});

describe('CompiledRoute.matchesPath', () => {
  const from = 'https://app.example.com';

  it.each(['/', '/anything', '//x', '/a/b/c'])('matches every path without a matcher: %s', (path) => {
    expect(compile({ from }).matchesPath(path)).toBe(true);
  });

  it.each([
    ['/api', '/api', true],
    ['/api', '/api/', true],
    ['/api', '/api/users', true],
    ['/api', '/api//users', true],
    ['/api', '/apiary', false],
    ['/api', '/ap', false],
    ['/api', '/', false],
    ['/api', '/API', false],
    ['/api', '/v1/api', false],
    ['/api/', '/api/users', true],
    ['/api/', '/api/', true],
    ['/api/', '/api', false],
    ['/api/v', '/api/v1', false],
    ['/', '/', true],
    ['/', '/anything/at/all', true],
  ])('prefix %s against %s: %s', (prefix, path, matches) => {
    expect(compile({ from, prefix }).matchesPath(path)).toBe(matches);
  });

  it.each([
    ['/health', '/health', true],
    ['/health', '/health/', false],
    ['/health', '/health/x', false],
    ['/health', '/Health', false],
  ])('path %s against %s: %s', (path, requested, matches) => {
    expect(compile({ from, path }).matchesPath(requested)).toBe(matches);
  });

  it.each([
    ['/users/[0-9]+', '/users/42', true],
    ['/users/[0-9]+', '/users/42/edit', false],
    ['/users/[0-9]+', '/x/users/42', false],
    ['/a|/b', '/a', true],
    ['/a|/b', '/b', true],
    ['/a|/b', '/a/b', false],
    ['/a|/b', '/ab', false],
    ['.*\\.json', '/data/x.json', true],
    ['.*\\.json', '/data/x.json.bak', false],
  ])('regex %s must match all of %s: %s', (regex, path, matches) => {
    expect(compile({ from, regex }).matchesPath(path)).toBe(matches);
  });

  it('gives the same answer on repeated calls (the regex holds no state)', () => {
    const route = compile({ from, regex: '/a.*' });
    expect([route.matchesPath('/ab'), route.matchesPath('/ab'), route.matchesPath('/ab')]).toEqual([
      true,
      true,
      true,
    ]);
  });
});

describe('CompiledRoute.rewritePath', () => {
  const from = 'https://app.example.com';

  it('leaves the path alone without a rewrite', () => {
    expect(compile({ from, prefix: '/api' }).rewritePath('/api/users')).toBe('/api/users');
  });

  it.each([
    ['/api', '/', '/api', '/'],
    ['/api', '/', '/api/', '/'],
    ['/api', '/', '/api/users', '/users'],
    ['/api', '/', '/api//users', '//users'],
    ['/api', '/v2', '/api/users', '/v2/users'],
    ['/api', '/v2', '/api', '/v2'],
    ['/api', '/v2/', '/api/users', '/v2/users'],
    ['/api', '', '/api/users', '/users'],
    ['/api', '', '/api', '/'],
    ['/api/', '/v2/', '/api/users', '/v2/users'],
    ['/api/', '/', '/api/users', '/users'],
    ['/api/', '', '/api/users', '/users'],
    ['/api/', '/v2', '/api/users', '/v2users'],
    ['/', '/base/', '/users', '/base/users'],
  ])('prefix %j with prefix_rewrite %j maps %s to %s', (prefix, prefix_rewrite, path, rewritten) => {
    expect(compile({ from, prefix, prefix_rewrite }).rewritePath(path)).toBe(rewritten);
  });

  it('replaces the whole path of a path matcher', () => {
    expect(compile({ from, path: '/old', prefix_rewrite: '/new' }).rewritePath('/old')).toBe('/new');
  });

  it('treats a route without a matcher as the prefix /, as Pomerium does', () => {
    expect(compile({ from, prefix_rewrite: '/app/' }).rewritePath('/users')).toBe('/app/users');
  });

  it('throws a TypeError when asked to rewrite a path its prefix did not match', () => {
    expect(() => compile({ from, prefix: '/api', prefix_rewrite: '/' }).rewritePath('/other')).toThrow(
      TypeError,
    );
  });

  it.each([
    ['^/api/v([0-9]+)/(.*)$', '/\\2?version=\\1', '/api/v2/users', '/users?version=2'],
    ['/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api', '/v1/api/instance/foo'],
    ['o', '0', '/foo/boo', '/f00/b00'],
    ['^/old', '', '/old/x', '/x'],
    ['^/old', '', '/old', '/'],
    ['^/(.*)$', 'prefix/\\1', '/x', '/prefix/x'],
    ['^/a', '/$1$&\\\\', '/a/b', '/$1$&\\/b'],
    ['^/(x)?y', '/[\\1]', '/y', '/[]'],
    ['[0-9]+', '<\\0>', '/a1/b22', '/a<1>/b<22>'],
    ['^/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)', '/\\10', '/abcdefghij', '/a0'],
  ])(
    'regex_rewrite_pattern %j with substitution %j maps %s to %s',
    (pattern, substitution, path, rewritten) => {
      const route = compile({
        from,
        regex_rewrite_pattern: pattern,
        regex_rewrite_substitution: substitution,
      });
      expect(route.rewritePath(path)).toBe(rewritten);
      expect(route.rewritePath(path)).toBe(rewritten);
    },
  );

  it('deletes every match when the substitution is empty', () => {
    const route = compile({ from, regex_rewrite_pattern: '/v[0-9]', regex_rewrite_substitution: '' });
    expect(route.rewritePath('/v1/x/v2')).toBe('/x');
  });
});
