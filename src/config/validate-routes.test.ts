import { describe, expect, it } from 'vitest';
import { formatPath } from './problem.js';
import { validateRoutes } from './validate-routes.js';

const route = (fields: Record<string, unknown>) => ({
  from: 'https://app.gatehouse.test',
  to: 'http://app:3000',
  allow_public_unauthenticated_access: true,
  ...fields,
});

function problemsFor(...routes: unknown[]): string[] {
  return validateRoutes(routes).map(({ path, message }) => `${formatPath(path)}: ${message}`);
}

describe('validateRoutes', () => {
  it('accepts a route with one matcher and one rewrite', () => {
    expect(problemsFor(route({ prefix: '/api', prefix_rewrite: '/' }))).toEqual([]);
    expect(
      problemsFor(
        route({
          regex: '/v[12]/.*',
          regex_rewrite_pattern: '^/v(\\d)/',
          regex_rewrite_substitution: '/\\1/',
        }),
      ),
    ).toEqual([]);
  });

  it('refuses more than one path matcher', () => {
    expect(problemsFor(route({ prefix: '/a', path: '/a/b' }))).toEqual([
      'routes[0]: has both prefix and path; a route takes one path matcher',
    ]);
    expect(problemsFor(route({ prefix: '/a', path: '/a', regex: '/a' }))).toEqual([
      'routes[0]: has both prefix, path and regex; a route takes one path matcher',
    ]);
  });

  it('refuses prefix and path that do not start with a slash', () => {
    expect(problemsFor(route({ prefix: 'api' }), route({ path: '' }))).toEqual([
      'routes[0].prefix: must start with "/", like /api',
      'routes[1].path: must start with "/", like /',
    ]);
  });

  it('refuses a regex that does not compile, saying why', () => {
    expect(problemsFor(route({ regex: '/a(' }))).toEqual([
      'routes[0].regex: is not a valid regular expression: Unterminated group',
    ]);
  });

  it('refuses a regex that would escape the group the router anchors it in', () => {
    expect(problemsFor(route({ regex: 'a)(b' }))[0]).toMatch(
      /^routes\[0\]\.regex: is not a valid regular expression/,
    );
  });

  it('refuses prefix_rewrite together with regex_rewrite_pattern', () => {
    expect(
      problemsFor(
        route({
          prefix: '/a',
          prefix_rewrite: '/',
          regex_rewrite_pattern: 'a',
          regex_rewrite_substitution: 'b',
        }),
      ),
    ).toEqual([
      'routes[0]: has both prefix_rewrite and regex_rewrite_pattern; a route takes one path rewrite',
    ]);
  });

  it('refuses prefix_rewrite with a regex matcher', () => {
    expect(problemsFor(route({ regex: '/a.*', prefix_rewrite: '/' }))).toEqual([
      'routes[0].prefix_rewrite: needs a prefix or path matcher; with regex use regex_rewrite_pattern',
    ]);
  });

  it('refuses half of a regex rewrite', () => {
    expect(
      problemsFor(route({ regex_rewrite_pattern: 'a' }), route({ regex_rewrite_substitution: 'b' })),
    ).toEqual([
      'routes[0].regex_rewrite_pattern: needs regex_rewrite_substitution as well',
      'routes[1].regex_rewrite_substitution: needs regex_rewrite_pattern as well',
    ]);
  });

  it('refuses a rewrite pattern that does not compile, and a substitution naming a missing group', () => {
    expect(problemsFor(route({ regex_rewrite_pattern: '[a', regex_rewrite_substitution: 'b' }))).toEqual([
      'routes[0].regex_rewrite_pattern: is not a valid regular expression: Unterminated character class',
    ]);
    expect(
      problemsFor(route({ regex_rewrite_pattern: '/(a)/', regex_rewrite_substitution: '/\\2/' })),
    ).toEqual([
      'routes[0].regex_rewrite_substitution: refers to group \\2, but regex_rewrite_pattern has 1 capture group(s)',
    ]);
  });

  it.each([
    ['\\n', '"\\n" is not a valid escape; use \\0-\\9 for groups and \\\\ for a backslash'],
    ['x\\', '"\\" is not a valid escape; use \\0-\\9 for groups and \\\\ for a backslash'],
  ])('refuses the substitution %j, an escape RE2 would refuse', (substitution, message) => {
    expect(
      problemsFor(route({ regex_rewrite_pattern: '/a', regex_rewrite_substitution: substitution })),
    ).toEqual([`routes[0].regex_rewrite_substitution: ${message}`]);
  });

  it('refuses preserve_host_header together with host_rewrite', () => {
    expect(problemsFor(route({ preserve_host_header: true, host_rewrite: 'internal' }))).toEqual([
      'routes[0]: has both preserve_host_header and host_rewrite; the upstream gets one Host header, choose one',
    ]);
    expect(problemsFor(route({ preserve_host_header: false, host_rewrite: 'internal' }))).toEqual([]);
  });

  it('accepts a route that needs sign-in, leaving who may enter to validate-identity', () => {
    expect(problemsFor(route({ allow_public_unauthenticated_access: undefined }))).toEqual([]);
    expect(
      problemsFor(route({ allow_public_unauthenticated_access: false, allowed_users: ['a@example.com'] })),
    ).toEqual([]);
  });

  it('leaves values of the wrong type to the schema', () => {
    expect(
      problemsFor(route({ prefix: 5, allow_public_unauthenticated_access: 'yes' }), 'not a route'),
    ).toEqual([]);
    expect(validateRoutes('not a list')).toEqual([]);
  });
});
