/**
 * The cloud CORS proxy through a real Gatehouse: `/proxy/<path>` goes to the host and port the request
 * names in `exo-proxy-orig-host` and `exo-proxy-orig-port`, only to allowed hosts and ports at allowed
 * addresses, with the route's CORS policy on every answer — against real upstreams that send no CORS
 * headers and record what reached them.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type ClientResponse } from '../harness/client.js';
import { startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../harness/upstream.js';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const CERT_FILE = new URL('localhost-cert.pem', TLS_DIR).pathname;
const CERT = readFileSync(CERT_FILE, 'utf8');
const KEY = readFileSync(new URL('localhost-key.pem', TLS_DIR), 'utf8');

const APP = 'https://app.example.test';
const TARGET_HEADERS = ['exo-proxy-orig-host', 'exo-proxy-orig-port'];

/** A cloud API like Keystone: JSON, an `X-Subject-Token` header, and no CORS headers at all. */
const keystone: UpstreamHandler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'subject-token-1' });
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        host: req.headers.host,
        body: Buffer.concat(chunks).toString('utf8'),
      }),
    );
  });
};

const CORS = `    cors:
      allowed_origins: [${APP}]
      allowed_methods: [GET, POST]
      allowed_headers: [Content-Type, X-Auth-Token, OpenStack-API-Version, exo-proxy-orig-host, exo-proxy-orig-port]
      exposed_headers: [X-Subject-Token]
`;

function dynamicRoute(from: string, dynamic: string, extra = ''): string {
  return `  - from: ${from}
    prefix: /proxy
    prefix_rewrite: /
    allow_public_unauthenticated_access: true
    timeout: 3s
    dynamic_upstream:
${dynamic}${extra}`;
}

let upstream: TestUpstream;
let tlsServer: https.Server;
let tlsPort: number;
const tlsServernames: (string | false | null)[] = [];
let gatehouse: TestGatehouse;

beforeAll(async () => {
  upstream = await startUpstream(keystone);
  tlsServer = https.createServer({ cert: CERT, key: KEY }, (req, res) => {
    tlsServernames.push((req.socket as TLSSocket).servername);
    keystone(req, res);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsPort = (tlsServer.address() as AddressInfo).port;
  const port = upstream.port;
  gatehouse = await startGatehouse(`insecure_server: true
routes:
${dynamicRoute(
  'http://lab.example.test',
  `      scheme: http
      allowed_hosts: [localhost, 127.0.0.1]
      allowed_ports: [${port}]
      allow_private_addresses: true
`,
  CORS,
)}
${dynamicRoute(
  'http://strict.example.test',
  `      scheme: http
      allowed_hosts: [localhost, 127.0.0.1, "::1", "::ffff:127.0.0.1", "*.invalid"]
      allowed_ports: [${port}]
`,
  CORS,
)}
${dynamicRoute(
  'http://tls.example.test',
  `      allowed_hosts: [localhost, 127.0.0.1]
      allowed_ports: [${tlsPort}]
      allow_private_addresses: true
`,
  `    tls_custom_ca_file: ${CERT_FILE}\n`,
)}
${dynamicRoute(
  'http://no-cors.example.test',
  `      scheme: http
      allowed_hosts: [localhost]
      allowed_ports: [${port}]
      allow_private_addresses: true
`,
)}`);
});

afterAll(async () => {
  await gatehouse?.close();
  await upstream?.close();
  await new Promise<void>((resolve) => {
    if (tlsServer === undefined) resolve();
    else tlsServer.close(() => resolve());
    tlsServer?.closeAllConnections();
  });
});

interface ProxyRequest {
  readonly via?: string;
  readonly host?: string;
  readonly port?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

function viaProxy(path: string, request: ProxyRequest = {}): Promise<ClientResponse> {
  const targetHeaders: Record<string, string> = {};
  if (request.host !== undefined) targetHeaders['exo-proxy-orig-host'] = request.host;
  if (request.port !== undefined) targetHeaders['exo-proxy-orig-port'] = request.port;
  return send(gatehouse.port, path, {
    method: request.method ?? 'GET',
    host: `${request.via ?? 'lab'}.example.test`,
    headers: { ...targetHeaders, ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
}

function errorCodeOf(response: ClientResponse): string | undefined {
  return (JSON.parse(response.body) as { code?: string }).code;
}

/** Expects Gatehouse's own error answer, `status` with `code`, readable by the app (the route's CORS). */
function expectErrorForApp(response: ClientResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(errorCodeOf(response)).toBe(code);
  expect(response.headers['access-control-allow-origin']).toBe(APP);
}

/** Runs `act` and returns how many requests reached the plain-http upstream meanwhile. */
async function requestsReaching(act: () => Promise<unknown>): Promise<number> {
  const before = upstream.requests.length;
  await act();
  return upstream.requests.length - before;
}

describe('forwarding to the upstream a request names', () => {
  it('forwards /proxy/<path> with its query to the named host and port, Host being that name', async () => {
    const response = await viaProxy('/proxy/v3/auth/tokens?nocatalog=1', {
      host: 'localhost',
      port: String(upstream.port),
    });
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body)).toMatchObject({
      method: 'GET',
      url: '/v3/auth/tokens?nocatalog=1',
      host: `localhost:${upstream.port}`,
    });
    expect(response.headers['x-subject-token']).toBe('subject-token-1');
  });

  it('forwards to an IP literal, and streams a POST body', async () => {
    const body = JSON.stringify({ auth: { identity: { methods: ['password'] } } });
    const response = await viaProxy('/proxy/v3/auth/tokens', {
      host: '127.0.0.1',
      port: String(upstream.port),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body)).toMatchObject({
      method: 'POST',
      body,
      host: `127.0.0.1:${upstream.port}`,
    });
  });

  it('does not send the target headers upstream, and keeps the API headers', async () => {
    await viaProxy('/proxy/v2.1/servers', {
      host: 'localhost',
      port: String(upstream.port),
      headers: { 'X-Auth-Token': 'token-abc', 'OpenStack-API-Version': 'compute 2.79' },
    });
    const seen = upstream.lastRequest();
    expect(seen.url).toBe('/v2.1/servers');
    for (const name of TARGET_HEADERS) expect(seen.headers).not.toHaveProperty(name);
    expect(seen.headers['x-auth-token']).toBe('token-abc');
    expect(seen.headers['openstack-api-version']).toBe('compute 2.79');
  });

  it('connects to the checked address over TLS while SNI and the certificate check use the name', async () => {
    const byName = await viaProxy('/proxy/v3', { via: 'tls', host: 'localhost', port: String(tlsPort) });
    expect(byName.status).toBe(201);
    expect(JSON.parse(byName.body)).toMatchObject({ host: `localhost:${tlsPort}`, url: '/v3' });
    const byAddress = await viaProxy('/proxy/v3', { via: 'tls', host: '127.0.0.1', port: String(tlsPort) });
    expect(byAddress.status).toBe(201);
    // No SNI for an IP literal (RFC 6066 §3); the certificate's IP entry is what was checked.
    expect(tlsServernames).toEqual(['localhost', false]);
  });
});

describe('CORS on the proxied answers', () => {
  it('adds the route’s CORS headers to an upstream answer that has none, exposing X-Subject-Token', async () => {
    const response = await viaProxy('/proxy/v3/auth/tokens', {
      host: 'localhost',
      port: String(upstream.port),
      headers: { origin: APP, 'x-auth-token': 'token-abc' },
    });
    expect(response.status).toBe(201);
    expect(response.headers['access-control-allow-origin']).toBe(APP);
    expect(response.headers['access-control-expose-headers']).toMatch(/x-subject-token/i);
    expect(response.headers.vary).toMatch(/origin/i);
  });

  it('answers the preflight itself, allowing the target headers, and resolves or forwards nothing', async () => {
    const forwarded = await requestsReaching(async () => {
      const response = await viaProxy('/proxy/v3/auth/tokens', {
        method: 'OPTIONS',
        headers: {
          origin: APP,
          'access-control-request-method': 'POST',
          'access-control-request-headers':
            'content-type,exo-proxy-orig-host,exo-proxy-orig-port,x-auth-token',
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe(APP);
      expect(response.headers['access-control-allow-headers']).toMatch(/exo-proxy-orig-host/i);
    });
    expect(forwarded).toBe(0);
  });

  it('puts CORS headers on its own 400 so the app can read why', async () => {
    const response = await viaProxy('/proxy/v3', { port: String(upstream.port), headers: { origin: APP } });
    expectErrorForApp(response, 400, 'ERR_DYNAMIC_UPSTREAM_HEADER_INVALID');
  });

  it('without a cors block, answers without any Access-Control-* header', async () => {
    const response = await viaProxy('/proxy/v3', {
      via: 'no-cors',
      host: 'localhost',
      port: String(upstream.port),
      headers: { origin: APP },
    });
    expect(response.status).toBe(201);
    expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });
});

describe('requests the proxy refuses', () => {
  it.each<[string, ProxyRequest, string]>([
    ['no host header', { port: 'PORT' }, 'exo-proxy-orig-host header is missing'],
    ['no port header', { host: 'localhost' }, 'exo-proxy-orig-port header is missing'],
    ['a host with a port', { host: 'localhost:22', port: 'PORT' }, 'not a host name or IP address'],
    ['a URL as host', { host: 'http://localhost', port: 'PORT' }, 'not a host name or IP address'],
    ['a port that is no number', { host: 'localhost', port: '80a' }, 'not a port number'],
  ])('answers 400 for %s, naming the problem', async (_kind, request, message) => {
    const forwarded = await requestsReaching(async () => {
      const response = await viaProxy('/proxy/v3', {
        ...request,
        ...(request.port === 'PORT' ? { port: String(upstream.port) } : {}),
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/json');
      expect(errorCodeOf(response)).toBe('ERR_DYNAMIC_UPSTREAM_HEADER_INVALID');
      expect(response.body).toContain(message);
    });
    expect(forwarded).toBe(0);
  });

  it.each([
    ['a host not on the allowlist', 'evil.example.net', 'PORT'],
    ['a look-alike of an allowed host', 'localhost.evil.example.net', 'PORT'],
    ['a port not on the allowlist', 'localhost', '22'],
  ])('answers 403 for %s', async (_kind, host, port) => {
    const forwarded = await requestsReaching(async () => {
      const response = await viaProxy('/proxy/v3', {
        host,
        port: port === 'PORT' ? String(upstream.port) : port,
        headers: { origin: APP },
      });
      expectErrorForApp(response, 403, 'ERR_DYNAMIC_UPSTREAM_REFUSED');
    });
    expect(forwarded).toBe(0);
  });

  it.each([
    ['a loopback address', '127.0.0.1'],
    ['loopback written as 127.1', '127.1'],
    ['loopback written in hex', '0x7f.1'],
    ['IPv6 loopback', '[::1]'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ])('refuses %s without allow_private_addresses, even when the host is allowed', async (_kind, host) => {
    const forwarded = await requestsReaching(async () => {
      const response = await viaProxy('/proxy/v3', { via: 'strict', host, port: String(upstream.port) });
      expect(response.status).toBe(403);
      expect(errorCodeOf(response)).toBe('ERR_DYNAMIC_UPSTREAM_REFUSED');
      expect(response.body).toContain('is not public');
    });
    expect(forwarded).toBe(0);
  });

  it('refuses an allowed name that resolves to 127.0.0.1 (localhost), after resolving it', async () => {
    const forwarded = await requestsReaching(async () => {
      const response = await viaProxy('/proxy/v3', {
        via: 'strict',
        host: 'localhost',
        port: String(upstream.port),
      });
      expect(response.status).toBe(403);
      expect(errorCodeOf(response)).toBe('ERR_DYNAMIC_UPSTREAM_REFUSED');
      expect(JSON.parse(response.body)).toMatchObject({
        message:
          'Host localhost resolves to an address that is not public; this route only reaches public addresses.',
      });
    });
    expect(forwarded).toBe(0);
  });

  it('answers 502 when the named host does not resolve', async () => {
    const response = await viaProxy('/proxy/v3', {
      via: 'strict',
      host: 'no-such-cloud.invalid',
      port: String(upstream.port),
      headers: { origin: APP },
    });
    expectErrorForApp(response, 502, 'ERR_DYNAMIC_UPSTREAM_UNRESOLVED');
  });
});
