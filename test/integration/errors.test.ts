/**
 * How the assembled server fails: upstreams that refuse, hang, reset or die mid-body; requests Node's
 * parser or Gatehouse refuses. Every error answer is Gatehouse's own (JSON or HTML, a request id, the
 * secure default headers), says nothing about the upstream's address or internals, and the proxy keeps
 * serving afterwards.
 */
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { outcomeOf, send, sendRaw } from '../harness/client.js';
import {
  gatehouseInFront,
  plainHttpConfig,
  publicRoute,
  startGatehouse,
  type TestGatehouse,
} from '../harness/gatehouse.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A response as these tests read it, whether `send` received it or `parseRaw` read it off the wire. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Statuses and bodies of raw HTTP/1.1 responses. */
function parseRaw(raw: string): Answer {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string | string[] | undefined> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

function expectSecureDefaults(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
}

/** A JSON error body whose request id is the one in the response header. */
function expectJsonError(response: Answer, status: number, code: string): Record<string, unknown> {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ code, request_id: response.headers['x-request-id'] });
  expectSecureDefaults(response.headers);
  return body;
}

describe('upstream failures', () => {
  let healthy: TestUpstream;
  let hanging: TestUpstream;
  let uploadKiller: TestUpstream;
  let midResponseKiller: TestUpstream;
  let refusedPort: number;
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    healthy = await startUpstream();
    // Takes the request and never answers.
    hanging = await startUpstream(() => undefined);
    // Reads part of an upload, then cuts the connection.
    uploadKiller = await startUpstream((req) => {
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 64 * 1024) req.socket.destroy();
      });
    });
    // Promises 100 000 bytes, sends a few, then cuts the connection.
    midResponseKiller = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('partial body', () => res.socket?.destroy());
    });
    refusedPort = await unusedPort();

    gatehouse = await startGatehouse(
      plainHttpConfig(
        publicRoute('http://healthy.test', healthy.url),
        publicRoute('http://refused.test', `http://127.0.0.1:${refusedPort}`),
        publicRoute('http://hanging.test', hanging.url, '    timeout: 300ms\n'),
        publicRoute('http://upload.test', uploadKiller.url),
        publicRoute('http://reset.test', midResponseKiller.url),
      ),
    );
  });
  afterAll(async () => {
    await gatehouse.close();
    await Promise.all(
      [healthy, hanging, uploadKiller, midResponseKiller].map((upstream) => upstream.close()),
    );
  });

  async function expectStillServing(): Promise<void> {
    const response = await send(gatehouse.port, '/after', { host: 'healthy.test' });
    expect(response.status).toBe(200);
    expect(healthy.requests.at(-1)?.url).toBe('/after');
  }

  it('answers 502 JSON when the upstream refuses the connection, without its address or a stack', async () => {
    const response = await send(gatehouse.port, '/x', { host: 'refused.test' });
    const body = expectJsonError(response, 502, 'ERR_UPSTREAM_UNAVAILABLE');
    expect(body.message).toBe('The upstream service is unavailable.');
    for (const leak of [String(refusedPort), '127.0.0.1', 'ECONNREFUSED', 'connect', '    at ']) {
      expect(response.body).not.toContain(leak);
    }
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 502 HTML to a browser when the upstream refuses, with the request id', async () => {
    const response = await send(gatehouse.port, '/x', {
      host: 'refused.test',
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('502 Bad gateway');
    expect(response.body).toContain(String(response.headers['x-request-id']));
    expect(response.body).not.toContain(String(refusedPort));
    expect(response.body).not.toContain('ECONNREFUSED');
    expectSecureDefaults(response.headers);
  });

  it('logs the refused connection for operators', async () => {
    const response = await send(gatehouse.port, '/x', { host: 'refused.test' });
    const failure = gatehouse.logs.find(
      (log) => log.request_id === response.headers['x-request-id'] && log.level === 'error',
    );
    expect(failure).toMatchObject({ code: 'ERR_UPSTREAM_UNAVAILABLE', status: 502 });
  });

  it('answers 504 when the upstream does not answer within the route timeout', async () => {
    const started = performance.now();
    const response = await send(gatehouse.port, '/slow', { host: 'hanging.test' });
    expectJsonError(response, 504, 'ERR_UPSTREAM_TIMEOUT');
    expect(hanging.requests.at(-1)?.url).toBe('/slow');
    // The route's 300 ms, not the 30 s default.
    expect(performance.now() - started).toBeLessThan(5000);
    await expectStillServing();
  });

  it('gives an error status or a reset when the upstream dies mid-upload, and keeps serving', async () => {
    const upload = Buffer.alloc(4 * 1024 * 1024, 'u');
    const outcome = await outcomeOf(
      send(gatehouse.port, '/upload', { method: 'POST', host: 'upload.test', body: upload }),
    );
    expect([502, 'ECONNRESET', 'EPIPE']).toContain(outcome);
    expect(uploadKiller.requests).toHaveLength(1);
    await expectStillServing();
  });

  it('cuts the client response when the upstream resets after its headers, and keeps serving', async () => {
    const outcome = await outcomeOf(send(gatehouse.port, '/download', { host: 'reset.test' }));
    // A truncated body must never look complete: the client sees an aborted message.
    expect(['ECONNRESET', 'aborted']).toContain(outcome);
    await expectStillServing();
  });

  it('logs an upstream that failed after its answer had started, for operators', async () => {
    const requestId = 'reset-after-headers-1';
    await outcomeOf(
      send(gatehouse.port, '/download', { host: 'reset.test', headers: { 'x-request-id': requestId } }),
    );
    const failure = gatehouse.logs.find((log) => log.request_id === requestId && log.level === 'error');
    expect(failure).toMatchObject({ code: 'ERR_UPSTREAM_RESET', status: 502 });
  });
});

describe('requests Gatehouse refuses', () => {
  const servers = gatehouseInFront((upstream) => plainHttpConfig(publicRoute('http://app.test', upstream)));
  let seenBefore = 0;
  beforeEach(() => {
    seenBefore = servers.upstream.requests.length;
  });
  const expectNothingForwarded = () => expect(servers.upstream.requests.length).toBe(seenBefore);

  it.each([
    ['a request line with no version', 'NOT A REQUEST\r\n\r\n'],
    // RFC 9112 §3: the version is required; Node's parser reads this as HTTP/0.9 and keeps the headers.
    ['a request line without a version, followed by headers', 'GET /x\r\nHost: app.test\r\n\r\n'],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: app.test\r\n\r\n'],
    ['a method with invalid characters', 'G@T / HTTP/1.1\r\nHost: app.test\r\n\r\n'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: app.test\r\nno colon here\r\n\r\n'],
    ['a TLS handshake on the plain port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'],
  ])('answers 400 JSON to %s', async (_, bytes) => {
    const raw = await sendRaw(servers.gatehouse.port, Buffer.from(bytes, 'latin1'));
    expectJsonError(parseRaw(raw), 400, 'ERR_BAD_REQUEST');
    expectNothingForwarded();
  });

  it('answers 431 JSON to a header block larger than 16 KiB (RFC 6585 §5)', async () => {
    const raw = await sendRaw(
      servers.gatehouse.port,
      `GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
    );
    expectJsonError(parseRaw(raw), 431, 'ERR_HEADERS_TOO_LARGE');
    expectNothingForwarded();
  });

  it('answers a header block just under the limit normally', async () => {
    const response = await send(servers.gatehouse.port, '/', {
      host: 'app.test',
      headers: { 'x-big': 'a'.repeat(15 * 1024) },
    });
    expect(response.status).toBe(200);
  });

  it.each([
    ['without a Host header', ''],
    ['with an empty Host header', 'Host: \r\n'],
  ])('answers 400 to a request %s', async (_, hostLine) => {
    const { status, body, headers } = parseRaw(
      await sendRaw(servers.gatehouse.port, `GET / HTTP/1.1\r\n${hostLine}Connection: close\r\n\r\n`),
    );
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ code: 'ERR_BAD_HOST' });
    expectSecureDefaults(headers);
    expectNothingForwarded();
  });

  it.each(['bad host!', 'exa_mple.test', 'a..b', '[::1', 'app.test:99999', 'app.test:', 'app.test:80:80'])(
    'answers 400 to the invalid Host %j',
    async (host) => {
      const response = await send(servers.gatehouse.port, '/', { host });
      expectJsonError(response, 400, 'ERR_BAD_HOST');
      expectNothingForwarded();
    },
  );

  it('refuses a WebSocket upgrade on a route without allow_websockets with 403', async () => {
    const raw = await sendRaw(
      servers.gatehouse.port,
      [
        'GET /socket HTTP/1.1',
        'Host: app.test',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        '',
        '',
      ].join('\r\n'),
    );
    const { status, headers, body } = parseRaw(raw);
    expect(status).toBe(403);
    expect(JSON.parse(body)).toMatchObject({
      code: 'ERR_WEBSOCKETS_NOT_ALLOWED',
      request_id: headers['x-request-id'],
    });
    expectSecureDefaults(headers);
    expectNothingForwarded();
  });

  it('answers 404 to a WebSocket upgrade for an unknown host and forwards nothing', async () => {
    const raw = await sendRaw(
      servers.gatehouse.port,
      'GET /socket HTTP/1.1\r\nHost: unknown.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    const { status, headers, body } = parseRaw(raw);
    expect(status).toBe(404);
    expect(JSON.parse(body)).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND' });
    expectSecureDefaults(headers);
    expectNothingForwarded();
  });

  it('answers 405 with Allow to POST /ping', async () => {
    const response = await send(servers.gatehouse.port, '/ping', {
      method: 'POST',
      host: 'app.test',
      body: 'x',
    });
    expectJsonError(response, 405, 'ERR_METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe('GET, HEAD');
    expectNothingForwarded();
  });

  it('answers 404 with the secure defaults and a request id', async () => {
    const response = await send(servers.gatehouse.port, '/', { host: 'unknown.test' });
    expectJsonError(response, 404, 'ERR_ROUTE_NOT_FOUND');
    expectNothingForwarded();
  });

  it('keeps the connection usable after a 404 on a keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const miss = await send(servers.gatehouse.port, '/', { host: 'unknown.test', agent });
      const hit = await send(servers.gatehouse.port, '/', { host: 'app.test', agent });
      expect([miss.status, hit.status]).toEqual([404, 200]);
      expect(hit.clientPort).toBe(miss.clientPort);
    } finally {
      agent.destroy();
    }
  });
});
