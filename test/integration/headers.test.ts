/**
 * Header hygiene through the assembled server (DESIGN §7): what the upstream is told about the client
 * (X-Forwarded-*, request id), what it is never told (hop-by-hop fields, spoofed identity headers), the
 * route's header edits, and the headers every response carries on its way back.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, sendRaw } from '../harness/client.js';
import {
  gatehouseInFront,
  plainHttpConfig,
  publicRoute,
  startGatehouse,
  type TestGatehouse,
} from '../harness/gatehouse.js';
import { startUpstream, type RecordedRequest, type TestUpstream } from '../harness/upstream.js';

interface SpoofingFixture {
  readonly setRequestHeaders: Readonly<Record<string, string>>;
  readonly cases: readonly {
    readonly name: string;
    readonly stripped: boolean;
    readonly strippedFromTrustedPeer: boolean;
  }[];
}

interface HopByHopFixture {
  readonly endToEnd: readonly string[];
}

function fixtureText(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}

const spoofing = JSON.parse(fixtureText('identity-header-spoofing.json')) as SpoofingFixture;
const hopByHop = JSON.parse(fixtureText('hop-by-hop.json')) as HopByHopFixture;

/** Every header value the upstream received, under its lower-case name (repeats kept). */
function receivedValues(request: RecordedRequest): { name: string; value: string }[] {
  const pairs: { name: string; value: string }[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    pairs.push({
      name: (request.rawHeaders[i] as string).toLowerCase(),
      value: request.rawHeaders[i + 1] as string,
    });
  }
  return pairs;
}

describe('X-Forwarded-* for an untrusted peer', () => {
  const servers = gatehouseInFront((upstream) => plainHttpConfig(publicRoute('http://app.test', upstream)));

  it('writes X-Forwarded-For, -Proto and -Host from the connection and the Host header', async () => {
    await send(servers.gatehouse.port, '/', { host: 'app.test:8000' });
    const { headers } = servers.upstream.lastRequest();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('app.test:8000');
  });

  it('replaces the X-Forwarded-* a client sent instead of appending to them', async () => {
    await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: {
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'admin.internal',
        'x-forwarded-port': '443',
        forwarded: 'for=203.0.113.9',
        'x-real-ip': '203.0.113.9',
      },
    });
    const request = servers.upstream.lastRequest();
    expect(request.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(request.headers['x-forwarded-proto']).toBe('http');
    expect(request.headers['x-forwarded-host']).toBe('app.test');
    expect(request.headers['x-forwarded-port']).toBeUndefined();
    expect(request.headers.forwarded).toBeUndefined();
    expect(request.headers['x-real-ip']).toBeUndefined();
    expect(JSON.stringify(request.rawHeaders)).not.toContain('203.0.113.9');
  });

  it('logs the socket address as the client, not a claimed X-Forwarded-For', async () => {
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    const line = servers.gatehouse.logs.find((log) => log.request_id === response.headers['x-request-id']);
    expect(line?.client_ip).toBe('127.0.0.1');
  });
});

describe('X-Forwarded-* from a trusted proxy', () => {
  const servers = gatehouseInFront(
    (upstream) =>
      'insecure_server: true\ntrusted_proxies: [127.0.0.1/32]\n' +
      `routes:\n${publicRoute('http://app.test', upstream)}`,
  );

  it('appends the peer to X-Forwarded-For and keeps the proxy’s -Proto and -Host', async () => {
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: {
        'x-forwarded-for': '203.0.113.9, 10.0.0.2',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'public.example.com',
      },
    });
    const { headers } = servers.upstream.lastRequest();
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 10.0.0.2, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('public.example.com');
    const line = servers.gatehouse.logs.find((log) => log.request_id === response.headers['x-request-id']);
    expect(line?.client_ip).toBe('10.0.0.2');
  });

  it('writes its own X-Forwarded-* when the trusted proxy sent none', async () => {
    await send(servers.gatehouse.port, '/', { host: 'app.test' });
    const { headers } = servers.upstream.lastRequest();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('app.test');
  });
});

describe('identity-header spoofing (test/fixtures/identity-header-spoofing.json)', () => {
  const setHeaders = Object.entries(spoofing.setRequestHeaders)
    .map(([name, value]) => `      ${name}: ${value}\n`)
    .join('');

  describe.each([
    ['an ordinary client', false],
    ['a trusted proxy', true],
  ] as const)('sent by %s', (_, trusted) => {
    const servers = gatehouseInFront(
      (upstream) =>
        `insecure_server: true\n${trusted ? 'trusted_proxies: [127.0.0.1/32]\n' : ''}routes:\n` +
        publicRoute('http://app.test', upstream, `    set_request_headers:\n${setHeaders}`),
    );

    it.each(spoofing.cases)('$name', async ({ name, stripped, strippedFromTrustedPeer }) => {
      // A space keeps the value from also being accepted as a propagated request id.
      const spoofed = `spoofed ${name}`;
      const response = await send(servers.gatehouse.port, '/', {
        host: 'app.test',
        headers: { [name]: spoofed },
      });
      expect(response.status).toBe(200);
      const received = receivedValues(servers.upstream.lastRequest());
      const carriers = received.filter(({ value }) => value.includes(spoofed));
      if (trusted ? strippedFromTrustedPeer : stripped) {
        expect(carriers).toEqual([]);
      } else {
        expect(carriers.map((carrier) => carrier.name)).toEqual([name.toLowerCase()]);
      }
      for (const [setName, setValue] of Object.entries(spoofing.setRequestHeaders)) {
        expect(received.filter((pair) => pair.name === setName.toLowerCase())).toEqual([
          { name: setName.toLowerCase(), value: setValue },
        ]);
      }
    });
  });
});

describe('hop-by-hop fields', () => {
  const hopResponseHeaders: OutgoingHttpHeaders = {
    connection: 'X-Upstream-Hop',
    'x-upstream-hop': 'hop',
    'keep-alive': 'timeout=99',
    'proxy-authenticate': 'Basic realm="upstream"',
    upgrade: 'h2c',
    'x-end-to-end': 'kept',
  };
  const servers = gatehouseInFront(
    (upstream) => plainHttpConfig(publicRoute('http://app.test', upstream)),
    (req, res: ServerResponse) => {
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', ...hopResponseHeaders });
        res.end('ok');
      });
    },
  );

  it('strips hop-by-hop request fields and every field Connection names (RFC 9110 §7.6.1)', async () => {
    const endToEnd = hopByHop.endToEnd
      .filter((name) => name !== 'content-length')
      .map((name) => [name, `value-of-${name}`] as const);
    // Raw, because Node's client will not send Trailer or TE on a request without a chunked body.
    const hopHeaders = [
      'Connection: X-Client-Hop, keep-alive, close',
      'X-Client-Hop: hop',
      'Keep-Alive: timeout=99',
      'TE: trailers',
      'Trailer: X-Trailer',
      'Proxy-Connection: keep-alive',
      'Proxy-Authorization: Basic c2VjcmV0',
    ];
    const head = [...hopHeaders, ...endToEnd.map(([name, value]) => `${name}: ${value}`)].join('\r\n');
    const raw = await sendRaw(servers.gatehouse.port, `GET / HTTP/1.1\r\nHost: app.test\r\n${head}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    const request = servers.upstream.lastRequest();
    const { headers } = request;
    for (const name of ['x-client-hop', 'te', 'trailer', 'proxy-connection', 'proxy-authorization']) {
      expect(headers[name], name).toBeUndefined();
    }
    expect(headers['keep-alive']).not.toBe('timeout=99');
    expect(headers.connection ?? '').not.toMatch(/x-client-hop/i);
    const received = receivedValues(request);
    for (const [name, value] of endToEnd) expect(received, name).toContainEqual({ name, value });
  });

  it('strips hop-by-hop response fields and the fields the upstream’s Connection names', async () => {
    const direct = await send(servers.upstream.port, '/', { host: 'app.test' });
    expect(direct.headers['x-upstream-hop']).toBe('hop');
    expect(direct.headers['proxy-authenticate']).toBeDefined();
    const response = await send(servers.gatehouse.port, '/', { host: 'app.test' });
    expect(response.status).toBe(200);
    expect(response.headers['x-upstream-hop']).toBeUndefined();
    expect(response.headers['proxy-authenticate']).toBeUndefined();
    expect(response.headers.upgrade).toBeUndefined();
    expect(response.headers['keep-alive']).not.toBe('timeout=99');
    expect(response.headers.connection).not.toMatch(/x-upstream-hop/i);
    expect(response.headers['x-end-to-end']).toBe('kept');
    expect(response.body).toBe('ok');
  });
});

describe('route header edits', () => {
  let upstream: TestUpstream;
  let framing: TestUpstream;
  let gatehouse: TestGatehouse;
  beforeAll(async () => {
    upstream = await startUpstream();
    framing = await startUpstream((req, res) => {
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'x-frame-options': 'DENY', 'x-shared': 'from-upstream' });
        res.end();
      });
    });
    gatehouse = await startGatehouse(
      'insecure_server: true\nset_response_headers:\n  X-Global: global\n  X-Shared: global\nroutes:\n' +
        publicRoute('http://preserve.test', upstream.url, '    preserve_host_header: true\n') +
        publicRoute('http://rewrite.test', upstream.url, '    host_rewrite: internal.example:9000\n') +
        publicRoute(
          'http://edit.test',
          upstream.url,
          '    set_request_headers:\n      X-Route: from-route\n' +
            '    remove_request_headers: [X-Remove-Me, Cookie]\n' +
            '    set_response_headers:\n      X-Shared: route\n',
        ) +
        publicRoute('http://framing.test', framing.url) +
        publicRoute('http://plain.test', upstream.url),
    );
  });
  afterAll(async () => {
    await gatehouse.close();
    await Promise.all([upstream.close(), framing.close()]);
  });

  it("sends the upstream's own host by default", async () => {
    await send(gatehouse.port, '/', { host: 'plain.test:8443' });
    expect(upstream.lastRequest().headers.host).toBe(`127.0.0.1:${upstream.port}`);
  });

  it("sends the client's Host with preserve_host_header", async () => {
    await send(gatehouse.port, '/', { host: 'preserve.test:8443' });
    expect(upstream.lastRequest().headers.host).toBe('preserve.test:8443');
  });

  it('sends host_rewrite as the Host', async () => {
    await send(gatehouse.port, '/', { host: 'rewrite.test' });
    expect(upstream.lastRequest().headers.host).toBe('internal.example:9000');
  });

  it('sets set_request_headers over what the client sent and removes remove_request_headers', async () => {
    await send(gatehouse.port, '/', {
      host: 'edit.test',
      headers: { 'x-route': 'from-client', 'x-remove-me': '1', cookie: 'session=abc', 'x-kept': 'yes' },
    });
    const request = upstream.lastRequest();
    expect(receivedValues(request).filter(({ name }) => name === 'x-route')).toEqual([
      { name: 'x-route', value: 'from-route' },
    ]);
    expect(request.headers['x-remove-me']).toBeUndefined();
    expect(request.headers.cookie).toBeUndefined();
    expect(request.headers['x-kept']).toBe('yes');
  });

  it("sets global set_response_headers, the route's winning where both name a header", async () => {
    const edited = await send(gatehouse.port, '/', { host: 'edit.test' });
    expect(edited.headers['x-global']).toBe('global');
    expect(edited.headers['x-shared']).toBe('route');
    const plain = await send(gatehouse.port, '/', { host: 'plain.test' });
    expect(plain.headers['x-global']).toBe('global');
    expect(plain.headers['x-shared']).toBe('global');
  });

  it('lets configured response headers replace the upstream’s, but not secure defaults', async () => {
    const response = await send(gatehouse.port, '/', { host: 'framing.test' });
    expect(response.headers['x-shared']).toBe('global');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('adds X-Frame-Options and X-Content-Type-Options when the upstream set neither, and no HSTS over http', async () => {
    const response = await send(gatehouse.port, '/', { host: 'plain.test' });
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('secure defaults switched off', () => {
  const servers = gatehouseInFront(
    (upstream) =>
      "insecure_server: true\nset_response_headers:\n  X-Frame-Options: ''\n" +
      `routes:\n${publicRoute('http://app.test', upstream)}`,
  );

  it('adds no X-Frame-Options when the global value is empty, on routed and unrouted answers', async () => {
    const routed = await send(servers.gatehouse.port, '/', { host: 'app.test' });
    const unrouted = await send(servers.gatehouse.port, '/', { host: 'unknown.test' });
    for (const response of [routed, unrouted]) {
      expect(response.headers['x-frame-options']).toBeUndefined();
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('over TLS', () => {
  const cert = fixtureText('tls/localhost-cert.pem');
  const servers = gatehouseInFront(
    (upstream) =>
      `certificate_file: ${new URL('../fixtures/tls/localhost-cert.pem', import.meta.url).pathname}\n` +
      `certificate_key_file: ${new URL('../fixtures/tls/localhost-key.pem', import.meta.url).pathname}\n` +
      `routes:\n${publicRoute('https://localhost', upstream)}`,
  );

  function get(path: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: servers.gatehouse.port,
          path,
          headers: { host: 'localhost' },
          ca: cert,
          agent: false,
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        },
      );
      req.on('error', reject);
    });
  }

  it('adds Strict-Transport-Security to proxied and to Gatehouse’s own answers', async () => {
    const proxied = await get('/page');
    expect(proxied.status).toBe(200);
    expect(proxied.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    const own = await get('/ping');
    expect(own.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  });

  it('tells the upstream the client used https', async () => {
    await get('/page');
    expect(servers.upstream.lastRequest().headers['x-forwarded-proto']).toBe('https');
  });
});

describe('X-Request-Id', () => {
  const servers = gatehouseInFront((upstream) => plainHttpConfig(publicRoute('http://app.test', upstream)));

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it('generates one, sends it upstream and returns it to the client', async () => {
    const response = await send(servers.gatehouse.port, '/', { host: 'app.test' });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(servers.upstream.lastRequest().headers['x-request-id']).toBe(id);
    expect(servers.gatehouse.logs.some((log) => log.msg === 'request' && log.request_id === id)).toBe(true);
  });

  it('gives every request a different one', async () => {
    const first = await send(servers.gatehouse.port, '/', { host: 'app.test' });
    const second = await send(servers.gatehouse.port, '/', { host: 'app.test' });
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('propagates a well-formed id from the client', async () => {
    const id = 'trace-42.abc:DEF+/=_';
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: { 'x-request-id': id },
    });
    expect(response.headers['x-request-id']).toBe(id);
    expect(
      receivedValues(servers.upstream.lastRequest()).filter(({ name }) => name === 'x-request-id'),
    ).toEqual([{ name: 'x-request-id', value: id }]);
  });

  it.each([
    ['with spaces', 'abc def'],
    ['of 200 characters', 'a'.repeat(200)],
    ['that forges a log line', 'x","status":200,"y'],
    ['empty', ''],
  ])('replaces an id %s', async (_, id) => {
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: { 'x-request-id': id },
    });
    const returned = response.headers['x-request-id'];
    expect(returned).toMatch(UUID);
    expect(
      receivedValues(servers.upstream.lastRequest()).filter(({ name }) => name === 'x-request-id'),
    ).toEqual([{ name: 'x-request-id', value: returned }]);
  });

  it('replaces a repeated id with a generated one', async () => {
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: { 'x-request-id': ['first', 'second'] },
    });
    expect(response.headers['x-request-id']).toMatch(UUID);
  });
});

describe('header injection', () => {
  const servers = gatehouseInFront((upstream) => plainHttpConfig(publicRoute('http://app.test', upstream)));

  it.each([
    ['a bare CR', 'X-Note: a\rX-Injected: 1'],
    ['a bare LF', 'X-Note: a\nX-Injected: 1'],
    ['a NUL', 'X-Note: a\0X-Injected: 1'],
  ])('refuses a header value containing %s with 400 and forwards nothing', async (_, line) => {
    const raw = await sendRaw(
      servers.gatehouse.port,
      `GET / HTTP/1.1\r\nHost: app.test\r\n${line}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(servers.upstream.requests).toHaveLength(0);
  });

  it('cannot be asked to send CR LF in a header value from a Node client', async () => {
    await expect(
      send(servers.gatehouse.port, '/', { host: 'app.test', headers: { 'x-note': 'a\r\nX-Injected: 1' } }),
    ).rejects.toThrow(/Invalid character/);
    expect(servers.upstream.requests).toHaveLength(0);
  });
});
