/**
 * Gatehouse's own health endpoints, answered on every host and never forwarded, and the access log: one
 * JSON line per request with the agreed fields, and no query string, token or cookie anywhere in the logs.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { send, sendRaw } from '../harness/client.js';
import { plainHttpConfig, publicRoute, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

let upstream: TestUpstream;
let gatehouse: TestGatehouse;
/** Resolves each time the hanging upstream receives a request. */
const hangingArrivals: (() => void)[] = [];
let hanging: TestUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
  hanging = await startUpstream(() => hangingArrivals.shift()?.());
  const refusedPort = await unusedPort();
  gatehouse = await startGatehouse(
    plainHttpConfig(
      publicRoute('http://app.test', upstream.url, '    name: app\n'),
      publicRoute('http://hanging.test', hanging.url, '    name: hanging\n'),
      publicRoute('http://refused.test', `http://127.0.0.1:${refusedPort}`, '    name: refused\n'),
    ),
  );
});
afterAll(async () => {
  await gatehouse.close();
  await Promise.all([upstream.close(), hanging.close()]);
});

/** The access-log lines for one request id, once the exchange has ended and been logged. */
async function accessLines(requestId: unknown, count = 1): Promise<Record<string, unknown>[]> {
  const lines = () => gatehouse.logs.filter((log) => log.msg === 'request' && log.request_id === requestId);
  await vi.waitFor(() => expect(lines().length).toBeGreaterThanOrEqual(count));
  return lines();
}

describe('health endpoints', () => {
  it.each([
    ['/ping', 'app.test', 'text/plain', 'OK\n'],
    ['/healthz', 'app.test', 'application/json', '{"status":"ok"}'],
    ['/readyz', 'app.test', 'application/json', '{"status":"ready","routes":3}'],
    ['/ping', 'unknown.test', 'text/plain', 'OK\n'],
    ['/healthz', 'unknown.test:9999', 'application/json', '{"status":"ok"}'],
    ['/readyz', '127.0.0.1', 'application/json', '{"status":"ready","routes":3}'],
    ['/ping?probe=1', 'app.test', 'text/plain', 'OK\n'],
    ['/x/../ping', 'app.test', 'text/plain', 'OK\n'],
  ])('answers %s on host %s itself', async (path, host, contentType, body) => {
    const before = upstream.requests.length;
    const response = await send(gatehouse.port, path, { host });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(new RegExp(`^${contentType}`));
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toBe(body);
    expect(upstream.requests.length).toBe(before);
  });

  it.each(['/ping', '/healthz'])('answers HEAD %s with headers and no body', async (path) => {
    const before = upstream.requests.length;
    const response = await send(gatehouse.port, path, { method: 'HEAD', host: 'app.test' });
    expect(response.status).toBe(200);
    expect(Number(response.headers['content-length'])).toBeGreaterThan(0);
    expect(response.body).toBe('');
    expect(upstream.requests.length).toBe(before);
  });

  it('forwards a path that only starts like an endpoint', async () => {
    const response = await send(gatehouse.port, '/pingpong', { host: 'app.test' });
    expect(response.status).toBe(200);
    expect(upstream.requests.at(-1)?.url).toBe('/pingpong');
  });
});

describe('the access log', () => {
  const ACCESS_FIELDS = [
    'time',
    'request_id',
    'method',
    'host',
    'path',
    'route',
    'status',
    'duration_ms',
    'bytes',
    'upstream',
    'client_ip',
  ];

  it('writes one line with every field for a proxied request', async () => {
    const response = await send(gatehouse.port, '/items/7?page=2', { host: 'app.test:8080' });
    const [line, ...more] = await accessLines(response.headers['x-request-id']);
    expect(more).toEqual([]);
    expect(Object.keys(line ?? {})).toEqual(expect.arrayContaining(ACCESS_FIELDS));
    expect(line).toMatchObject({
      method: 'GET',
      host: 'app.test',
      path: '/items/7',
      route: 'app',
      status: 200,
      upstream: upstream.url,
      client_ip: '127.0.0.1',
    });
    expect(Date.parse(String(line?.time))).not.toBeNaN();
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(line?.bytes).toBeGreaterThan(response.body.length);
  });

  it('writes exactly one line per request on a keep-alive connection, whoever answered', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = async (path: string, host: string) =>
      String((await send(gatehouse.port, path, { host, agent })).headers['x-request-id']);
    try {
      const ids = [
        await get('/a', 'app.test'),
        await get('/ping', 'app.test'),
        await get('/a', 'unknown.test'),
        await get('/a', 'refused.test'),
        await get('/a', 'app.test'),
      ];
      expect(new Set(ids).size).toBe(5);
      const statuses = [];
      for (const id of ids) {
        const lines = await accessLines(id);
        expect(lines).toHaveLength(1);
        statuses.push(lines[0]?.status);
      }
      expect(statuses).toEqual([200, 200, 404, 502, 200]);
    } finally {
      agent.destroy();
    }
  });

  it('logs a request the client abandoned, as aborted and with no status of an answer it never got', async () => {
    const arrived = new Promise<void>((resolve) => hangingArrivals.push(resolve));
    const request = http.get({
      host: '127.0.0.1',
      port: gatehouse.port,
      path: '/wait',
      headers: { host: 'hanging.test', 'x-request-id': 'abandoned-1' },
      agent: false,
    });
    const closed = new Promise<void>((resolve) => request.once('close', resolve));
    request.on('error', () => undefined);
    await arrived;
    request.destroy();
    await closed;
    const [line, ...more] = await accessLines('abandoned-1');
    expect(more).toEqual([]);
    expect(line).toMatchObject({ path: '/wait', route: 'hanging', aborted: true });
    // nginx's 499 "client closed request", the status forward() reports; never a 200 nobody sent.
    expect(line?.status).toBe(499);
  });

  describe('never holds a secret', () => {
    const SECRETS = {
      code: 'code-s3cret-1',
      jwt: 'jwt-s3cret-2',
      bearer: 'bearer-s3cret-3',
      cookie: 'cookie-s3cret-4',
      basic: 'YmFzaWMtczNjcmV0LTU=',
    };
    const query = `code=${SECRETS.code}&pomerium_jwt=${SECRETS.jwt}`;
    const headers = {
      authorization: `Bearer ${SECRETS.bearer}`,
      cookie: `_pomerium=${SECRETS.cookie}; other=1`,
      'proxy-authorization': `Basic ${SECRETS.basic}`,
    };

    it.each([
      ['a proxied request', 'app.test', `/callback?${query}`],
      ['an unrouted request', 'unknown.test', `/callback?${query}`],
      ['a request whose upstream refused', 'refused.test', `/callback?${query}`],
      ['a health check', 'app.test', `/ping?${query}`],
      ['a request with a malformed path', 'app.test', `/a%zz?${query}`],
    ])('for %s', async (_, host, target) => {
      const response = await send(gatehouse.port, target, { host, headers });
      await accessLines(response.headers['x-request-id']);
      const logs = JSON.stringify(gatehouse.logs);
      for (const secret of Object.values(SECRETS)) expect(logs).not.toContain(secret);
      expect(logs).not.toContain('pomerium_jwt');
    });

    it('for a request the parser refused', async () => {
      const before = gatehouse.logs.length;
      const raw = await sendRaw(
        gatehouse.port,
        `GET /callback?${query} HTTP/1.1\r\nHost: app.test\r\nAuthorization: Bearer ${SECRETS.bearer}\r\n` +
          `Cookie: _pomerium=${SECRETS.cookie}\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 431 /);
      await vi.waitFor(() => expect(gatehouse.logs.length).toBeGreaterThan(before));
      const logs = JSON.stringify(gatehouse.logs);
      for (const secret of Object.values(SECRETS)) expect(logs).not.toContain(secret);
    });
  });
});
