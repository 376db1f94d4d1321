/**
 * Routing through the assembled server: which upstream a request reaches (host, port, path matchers,
 * config order), which path it arrives with (rewrites, base paths, normalization), and that a request no
 * route claims is answered 404 by Gatehouse and reaches no upstream at all.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostHeader } from '../../src/routing/parse-host.js';
import { send, sendRaw } from '../harness/client.js';
import { plainHttpConfig, publicRoute, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

interface WildcardCase {
  readonly note: string;
  readonly pattern: string;
  readonly host: string;
  readonly matches: boolean;
}

interface NormalizationCase {
  readonly note: string;
  readonly input: string;
  readonly expected: { readonly path: string; readonly query: string } | null;
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const wildcardCases = fixture<WildcardCase[]>('wildcard-hosts.json');
const normalizationCases = fixture<NormalizationCase[]>('path-normalization.json');

/** The upstreams a test starts and the Gatehouse in front of them, closed together. */
class Setup {
  readonly upstreams: TestUpstream[] = [];
  gatehouse: TestGatehouse | undefined;

  async upstream(): Promise<TestUpstream> {
    const upstream = await startUpstream();
    this.upstreams.push(upstream);
    return upstream;
  }

  async start(yaml: string): Promise<TestGatehouse> {
    this.gatehouse = await startGatehouse(yaml);
    return this.gatehouse;
  }

  get port(): number {
    if (!this.gatehouse) throw new TypeError('start() first');
    return this.gatehouse.port;
  }

  /** How many requests all upstreams together have received. */
  get forwarded(): number {
    return this.upstreams.reduce((sum, upstream) => sum + upstream.requests.length, 0);
  }

  async close(): Promise<void> {
    await this.gatehouse?.close();
    await Promise.all(this.upstreams.map((upstream) => upstream.close()));
  }
}

/** The status code of a raw HTTP/1.1 response, 0 when none came. */
function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? 0);
}

function rawGet(target: string, host: string): Buffer {
  return Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1');
}

describe('host matching', () => {
  const patterns = [...new Set(wildcardCases.map((testCase) => testCase.pattern))];

  describe.each(patterns)('a route from http://%s', (pattern) => {
    const setup = new Setup();
    let upstream: TestUpstream;
    beforeAll(async () => {
      upstream = await setup.upstream();
      await setup.start(plainHttpConfig(publicRoute(`http://${pattern}`, upstream.url)));
    });
    afterAll(() => setup.close());

    const cases = wildcardCases.filter((testCase) => testCase.pattern === pattern);
    it.each(cases)('$host: matches=$matches ($note)', async ({ host, matches }) => {
      const before = upstream.requests.length;
      const response = await send(setup.port, '/probe', { host });
      if (matches) {
        expect(response.status).toBe(200);
        expect(upstream.requests.length).toBe(before + 1);
        expect(upstream.lastRequest().headers['x-forwarded-host']).toBe(host);
      } else {
        // A name the Host parser refuses is a 400 before matching; any other name is simply no route's.
        expect(response.status).toBe(parseHostHeader(host) === undefined ? 400 : 404);
        expect(upstream.requests.length).toBe(before);
      }
    });
  });

  describe('ports', () => {
    const setup = new Setup();
    let exactPort: TestUpstream;
    let defaultPort: TestUpstream;
    let anyPort: TestUpstream;
    beforeAll(async () => {
      exactPort = await setup.upstream();
      defaultPort = await setup.upstream();
      anyPort = await setup.upstream();
      await setup.start(
        plainHttpConfig(
          publicRoute('http://ported.test:8080', exactPort.url),
          publicRoute('http://web.test:80', defaultPort.url),
          publicRoute('http://any.test', anyPort.url),
        ),
      );
    });
    afterAll(() => setup.close());

    it.each([
      ['ported.test:8080', 'exactPort', 200],
      ['ported.test:9090', null, 404],
      ['ported.test', null, 404],
      ['web.test', 'defaultPort', 200],
      ['web.test:80', 'defaultPort', 200],
      ['web.test:81', null, 404],
      ['any.test', 'anyPort', 200],
      ['any.test:1234', 'anyPort', 200],
      ['ANY.test:443', 'anyPort', 200],
    ] as const)('Host %s reaches %s (%i)', async (host, name, status) => {
      const upstreams = { exactPort, defaultPort, anyPort };
      const before = setup.forwarded;
      const response = await send(setup.port, `/from/${host}`, { host });
      expect(response.status).toBe(status);
      if (name === null) {
        expect(setup.forwarded).toBe(before);
      } else {
        expect(setup.forwarded).toBe(before + 1);
        expect(upstreams[name].lastRequest().url).toBe(`/from/${host}`);
      }
    });
  });
});

describe('path matching and order', () => {
  const setup = new Setup();
  let prefixApi: TestUpstream;
  let exactPath: TestUpstream;
  let regexItems: TestUpstream;
  let specific: TestUpstream;
  let general: TestUpstream;
  let catchAll: TestUpstream;
  let shadowed: TestUpstream;
  beforeAll(async () => {
    prefixApi = await setup.upstream();
    exactPath = await setup.upstream();
    regexItems = await setup.upstream();
    specific = await setup.upstream();
    general = await setup.upstream();
    catchAll = await setup.upstream();
    shadowed = await setup.upstream();
    await setup.start(
      plainHttpConfig(
        publicRoute('http://paths.test', prefixApi.url, '    prefix: /api\n'),
        publicRoute('http://paths.test', exactPath.url, '    path: /exact\n'),
        publicRoute('http://paths.test', regexItems.url, "    regex: '/items/[0-9]+'\n"),
        // Overlapping routes on one host: the more specific one is listed first and wins.
        publicRoute('http://order.test', specific.url, '    prefix: /v1\n'),
        publicRoute('http://order.test', general.url, '    prefix: /\n'),
        // Listed the other way round: the catch-all comes first, so the later route never matches.
        publicRoute('http://shadow.test', catchAll.url),
        publicRoute('http://shadow.test', shadowed.url, '    prefix: /v1\n'),
      ),
    );
  });
  afterAll(() => setup.close());

  async function expectReaches(host: string, path: string, upstream: TestUpstream | null): Promise<void> {
    const before = setup.forwarded;
    const response = await send(setup.port, path, { host });
    if (upstream === null) {
      expect(response.status).toBe(404);
      expect(setup.forwarded).toBe(before);
    } else {
      expect(response.status).toBe(200);
      expect(setup.forwarded).toBe(before + 1);
      expect(upstream.lastRequest().url).toBe(path);
    }
  }

  it('matches a prefix at a segment boundary: /api and /api/… but not /apiary', async () => {
    await expectReaches('paths.test', '/api', prefixApi);
    await expectReaches('paths.test', '/api/', prefixApi);
    await expectReaches('paths.test', '/api/users/7', prefixApi);
    await expectReaches('paths.test', '/apiary', null);
    await expectReaches('paths.test', '/ap', null);
  });

  it('matches path exactly, without a trailing slash or anything below it', async () => {
    await expectReaches('paths.test', '/exact', exactPath);
    await expectReaches('paths.test', '/exact/', null);
    await expectReaches('paths.test', '/exact/more', null);
    await expectReaches('paths.test', '/exactly', null);
  });

  it('matches regex against the whole path only', async () => {
    await expectReaches('paths.test', '/items/42', regexItems);
    await expectReaches('paths.test', '/items/42/edit', null);
    await expectReaches('paths.test', '/x/items/42', null);
    await expectReaches('paths.test', '/items/', null);
  });

  it('sends a request to the first matching route in config order', async () => {
    await expectReaches('order.test', '/v1/users', specific);
    await expectReaches('order.test', '/v2/users', general);
    await expectReaches('shadow.test', '/v1/users', catchAll);
    expect(shadowed.requests).toHaveLength(0);
  });
});

describe('no matching route', () => {
  const setup = new Setup();
  beforeAll(async () => {
    const upstream = await setup.upstream();
    await setup.start(plainHttpConfig(publicRoute('http://known.test', upstream.url, '    prefix: /app\n')));
  });
  afterAll(() => setup.close());

  const misses = [
    ['a known host with an unrouted path', 'known.test', '/other'],
    ['an unknown host', 'unknown.test', '/app'],
  ] as const;

  it.each(misses)('answers 404 JSON to a fetch-like client for %s', async (_, host, path) => {
    const response = await send(setup.port, path, { host, headers: { accept: '*/*' } });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND', request_id: response.headers['x-request-id'] });
    expect(setup.forwarded).toBe(0);
  });

  it.each(misses)('answers 404 HTML to a browser navigation for %s', async (_, host, path) => {
    const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const response = await send(setup.port, path, { host, headers: { accept } });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('404 Not found');
    expect(setup.forwarded).toBe(0);
  });

  it('answers 404 HTML when Sec-Fetch-Mode says navigate, whatever Accept says', async () => {
    const response = await send(setup.port, '/nowhere', {
      host: 'known.test',
      headers: { accept: '*/*', 'sec-fetch-mode': 'navigate' },
    });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(setup.forwarded).toBe(0);
  });
});

describe('the path and query the upstream receives', () => {
  const setup = new Setup();
  let prefixRewrite: TestUpstream;
  let rootRewrite: TestUpstream;
  let regexRewrite: TestUpstream;
  let basePath: TestUpstream;
  let plain: TestUpstream;
  beforeAll(async () => {
    prefixRewrite = await setup.upstream();
    rootRewrite = await setup.upstream();
    regexRewrite = await setup.upstream();
    basePath = await setup.upstream();
    plain = await setup.upstream();
    await setup.start(
      plainHttpConfig(
        publicRoute('http://rewrite.test', prefixRewrite.url, '    prefix: /api\n    prefix_rewrite: /v2\n'),
        publicRoute('http://rewrite.test', rootRewrite.url, '    prefix: /strip\n    prefix_rewrite: /\n'),
        publicRoute(
          'http://rewrite.test',
          regexRewrite.url,
          "    prefix: /old\n    regex_rewrite_pattern: '^/old/([a-z]+)/(.*)$'\n" +
            "    regex_rewrite_substitution: '/new/\\2/\\1'\n",
        ),
        publicRoute('http://base.test', `${basePath.url}/base/dir`),
        publicRoute('http://plain.test', plain.url),
      ),
    );
  });
  afterAll(() => setup.close());

  it.each([
    ['prefixRewrite', 'rewrite.test', '/api/users?id=1', '/v2/users?id=1'],
    ['prefixRewrite', 'rewrite.test', '/api', '/v2'],
    ['rootRewrite', 'rewrite.test', '/strip/users', '/users'],
    ['rootRewrite', 'rewrite.test', '/strip', '/'],
    ['regexRewrite', 'rewrite.test', '/old/team/a/b', '/new/a/b/team'],
    ['basePath', 'base.test', '/x/y?z=1', '/base/dir/x/y?z=1'],
    ['basePath', 'base.test', '/', '/base/dir/'],
  ] as const)('%s: %s%s arrives as %s', async (name, host, path, expected) => {
    const upstreams = { prefixRewrite, rootRewrite, regexRewrite, basePath };
    const response = await send(setup.port, path, { host });
    expect(response.status).toBe(200);
    expect(upstreams[name].lastRequest().url).toBe(expected);
  });

  it('forwards the query string verbatim: order, encoding and invalid escapes untouched', async () => {
    const target = '/search?b=2&a=1&a=%2F&x=%zz&empty=&plus=a+b&slash=/../&q=%E2%9C%93';
    const response = await send(setup.port, target, { host: 'plain.test' });
    expect(response.status).toBe(200);
    expect(plain.lastRequest().url).toBe(target);
  });
});

describe('path normalization through the proxy', () => {
  const setup = new Setup();
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await setup.upstream();
    await setup.start(plainHttpConfig(publicRoute('http://localhost', upstream.url)));
  });
  afterAll(() => setup.close());

  // CR and LF end the request line itself, so on the wire such an input is another request, not a path.
  // The absolute form names a host of its own and has its own test below.
  const onTheWire = normalizationCases.filter(
    ({ input }) => !/[\r\n]/.test(input) && !/^https?:/.test(input),
  );
  /** RFC 9112 §3.2: no control characters, spaces or raw non-ASCII bytes in a request target. */
  const isUnsendable = (input: string) =>
    input === '' || [...input].some((char) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) >= 0x7f);

  it.each(onTheWire)('$note: $input', async ({ input, expected }) => {
    const before = upstream.requests.length;
    const status = statusOf(await sendRaw(setup.port, rawGet(input, 'localhost')));
    if (expected === null || isUnsendable(input)) {
      expect(status).toBe(400);
      expect(upstream.requests.length).toBe(before);
    } else {
      expect(status).toBe(200);
      expect(upstream.requests.length).toBe(before + 1);
      expect(upstream.lastRequest().url).toBe(
        expected.query === '' ? expected.path : `${expected.path}?${expected.query}`,
      );
    }
  });
});

describe('a route that only allows /public', () => {
  const setup = new Setup();
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await setup.upstream();
    await setup.start(plainHttpConfig(publicRoute('http://app.test', upstream.url, '    prefix: /public\n')));
  });
  afterAll(() => setup.close());

  it.each(['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2e/admin', '/public/.%2e/admin'])(
    'answers 404 to %s, which resolves to /admin, and forwards nothing',
    async (target) => {
      const status = statusOf(await sendRaw(setup.port, rawGet(target, 'app.test')));
      expect(status).toBe(404);
      expect(upstream.requests).toHaveLength(0);
    },
  );

  it.each(['/public/..;/admin', '/public/%2e%2e;/admin'])(
    'refuses %s (Tomcat-style ..;) with 400 and forwards nothing',
    async (target) => {
      const status = statusOf(await sendRaw(setup.port, rawGet(target, 'app.test')));
      expect(status).toBe(400);
      expect(upstream.requests).toHaveLength(0);
    },
  );

  it.each([
    ['/public/..%2fadmin', '/public/..%2Fadmin'],
    ['/public/..%5Cadmin', '/public/..%5Cadmin'],
    ['/public/a/../b', '/public/b'],
    ['/public//x', '/public//x'],
  ])('keeps %s inside /public and forwards it as %s', async (target, expected) => {
    const status = statusOf(await sendRaw(setup.port, rawGet(target, 'app.test')));
    expect(status).toBe(200);
    expect(upstream.lastRequest().url).toBe(expected);
  });
});

describe('absolute-form request targets', () => {
  const setup = new Setup();
  let absolute: TestUpstream;
  let byHeader: TestUpstream;
  beforeAll(async () => {
    absolute = await setup.upstream();
    byHeader = await setup.upstream();
    await setup.start(
      plainHttpConfig(
        publicRoute('http://target.test', absolute.url),
        publicRoute('http://header.test', byHeader.url),
      ),
    );
  });
  afterAll(() => setup.close());

  it("routes on the target's host, not the Host header (RFC 9112 §3.2.2)", async () => {
    const raw = await sendRaw(setup.port, rawGet('http://target.test/x/../y?q=1', 'header.test'));
    expect(statusOf(raw)).toBe(200);
    expect(absolute.requests.map((request) => request.url)).toEqual(['/y?q=1']);
    expect(byHeader.requests).toHaveLength(0);
  });

  it('answers 404 when the target names an unknown host, even if the Host header is routed', async () => {
    const before = setup.forwarded;
    const raw = await sendRaw(setup.port, rawGet('http://elsewhere.test/x', 'header.test'));
    expect(statusOf(raw)).toBe(404);
    expect(setup.forwarded).toBe(before);
  });

  it('treats a target without a path as /', async () => {
    const raw = await sendRaw(setup.port, rawGet('http://target.test', 'header.test'));
    expect(statusOf(raw)).toBe(200);
    expect(absolute.lastRequest().url).toBe('/');
  });
});
