/**
 * CORS on actual responses through a real Gatehouse and a real upstream (DESIGN 5, rules 3, 5 and 6): the
 * allowed origin echoed with credentials and exposed headers on upstream answers, upstream redirects and
 * errors, and on the proxy's own 404, 502 and 504; nothing for other origins, whose requests are still
 * handled; Vary merged; the upstream's Access-Control-* replaced so each appears once; routes without
 * `cors` left as they were, Pomerium's static set_response_headers included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { accessControlHeaders, countHeaderLines, sendFromOrigin, sendPreflight } from '../harness/cors.js';
import { plainHttpConfig, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, unusedPort, type TestUpstream } from '../harness/upstream.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evilexample.com';
const API = 'api.cors.test';
const DOWN = 'down.cors.test';
const OPEN = 'open.cors.test';
const PLAIN = 'plain.cors.test';
const STATIC = 'static.cors.test';

/** The upstream's own CORS headers, the kind an app behind Pomerium sends itself. */
const UPSTREAM_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-credentials': 'false',
  'access-control-allow-methods': 'GET, POST, PATCH',
  'access-control-expose-headers': 'X-Secret',
  'access-control-max-age': '86400',
};

/** Answers by path: the Vary, redirect, error, slowness or CORS headers a test needs. */
function upstreamByPath(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const path = new URL(req.url ?? '/', 'http://upstream').pathname;
  const json = { 'content-type': 'application/json', 'x-total': '3' };
  switch (path) {
    case '/api/vary-accept-encoding':
      res.writeHead(200, { ...json, vary: 'Accept-Encoding' }).end('{}');
      return;
    case '/api/vary-star':
      res.writeHead(200, { ...json, vary: '*' }).end('{}');
      return;
    case '/api/vary-origin':
      res.writeHead(200, { ...json, vary: 'origin, Accept-Language' }).end('{}');
      return;
    case '/api/vary-lines':
      res.writeHead(200, [
        ['content-type', 'application/json'],
        ['vary', 'Accept-Encoding'],
        ['vary', 'Accept-Language'],
      ]);
      res.end('{}');
      return;
    case '/api/own-cors':
      res.writeHead(200, [
        ['content-type', 'application/json'],
        ...Object.entries(UPSTREAM_CORS),
        ['Access-Control-Allow-Origin', 'https://other.example'],
        ['Access-Control-Allow-Headers', '*'],
      ]);
      res.end('{}');
      return;
    case '/api/redirect':
      res.writeHead(302, { location: '/api/elsewhere' }).end();
      return;
    case '/api/error':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
      return;
    case '/slow/x':
      setTimeout(() => res.writeHead(200).end('late'), 3000).unref();
      return;
    default:
      res
        .writeHead(200, json)
        .end(JSON.stringify({ method: req.method, url: req.url, origin: req.headers.origin }));
  }
}

const CORS = `    cors:
      allowed_origins: ["${APP}", "https://*.example.net"]
      allowed_methods: [GET, PUT, DELETE]
      allowed_headers: [Content-Type]
      exposed_headers: [X-Request-Id, X-Total]
      allow_credentials: true
      max_age: 600
`;

let upstream: TestUpstream;
let gatehouse: TestGatehouse;

beforeAll(async () => {
  upstream = await startUpstream(upstreamByPath);
  const down = await unusedPort();
  const route = (from: string, to: string, extra: string) =>
    `  - from: http://${from}\n    to: ${to}\n    allow_public_unauthenticated_access: true\n${extra}`;
  gatehouse = await startGatehouse(
    plainHttpConfig(
      route(API, upstream.url, `    prefix: /api\n${CORS}`),
      route(API, upstream.url, `    prefix: /slow\n    timeout: 200ms\n${CORS}`),
      route(DOWN, `http://127.0.0.1:${down}`, CORS),
      route(
        OPEN,
        upstream.url,
        '    cors:\n      allowed_origins: ["*"]\n      exposed_headers: [X-Total]\n',
      ),
      route(PLAIN, upstream.url, ''),
      route(
        STATIC,
        upstream.url,
        `    cors_allow_preflight: true
    set_response_headers:
      Access-Control-Allow-Origin: ${APP}
      Access-Control-Allow-Credentials: "true"
      Access-Control-Expose-Headers: X-Total
`,
      ),
    ),
  );
});

afterAll(async () => {
  await gatehouse?.close();
  await upstream?.close();
});

/** The CORS headers an allowed origin gets on every answer of the api routes. */
const ALLOWED = {
  'access-control-allow-origin': APP,
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'X-Request-Id, X-Total',
};

describe('upstream answers', () => {
  it('echo the allowed origin with credentials and exposed headers, and vary on Origin', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/items', APP);
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
    expect(answer.headers.vary).toBe('Origin');
    // The request reached the upstream with its Origin, as any other request would.
    expect(JSON.parse(answer.body)).toEqual({ method: 'GET', url: '/api/items', origin: APP });
  });

  it('echo an origin a pattern allows, byte for byte', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/items', 'https://a.b.example.net');
    expect(answer.headers['access-control-allow-origin']).toBe('https://a.b.example.net');
  });

  it('give a disallowed origin no CORS headers, and still serve the request', async () => {
    const before = upstream.requests.length;
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/items', EVIL, { method: 'DELETE' });
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual({});
    expect(answer.headers.vary).toBe('Origin');
    expect(upstream.requests.length).toBe(before + 1);
    expect(upstream.lastRequest().method).toBe('DELETE');
  });

  it('give a request without Origin no CORS headers, but Vary: Origin', async () => {
    const answer = await send(gatehouse.port, '/api/items', { host: API });
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual({});
    expect(answer.headers.vary).toBe('Origin');
  });

  it('give a malformed origin (upper case, default port, trailing slash) no CORS headers', async () => {
    for (const origin of ['HTTPS://APP.EXAMPLE.COM', `${APP}:443`, `${APP}/`, `${APP}.evil.net`]) {
      const answer = await sendFromOrigin(gatehouse.port, API, '/api/items', origin);
      expect(answer.status).toBe(200);
      expect(accessControlHeaders(answer.headers)).toEqual({});
    }
  });

  it('carry CORS headers on the upstream’s redirect, which is passed on as it is', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/redirect', APP);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/api/elsewhere');
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
  });

  it('carry CORS headers on the upstream’s own error, so the app can read it', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/error', APP);
    expect(answer.status).toBe(500);
    expect(answer.body).toBe('upstream broke');
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
  });

  it('answer a non-preflight OPTIONS (Origin, no Access-Control-Request-Method) upstream, with CORS', async () => {
    const before = upstream.requests.length;
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/items', APP, { method: 'OPTIONS' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'OPTIONS', url: '/api/items' });
    expect(upstream.requests.length).toBe(before + 1);
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
  });
});

describe('Vary', () => {
  it('merges Origin into the upstream’s Vary: Accept-Encoding', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/vary-accept-encoding', APP);
    expect(answer.headers.vary).toBe('Accept-Encoding, Origin');
    expect(countHeaderLines(answer.rawHeaders, 'vary')).toBe(1);
  });

  it('leaves Vary: * as it is', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/vary-star', APP);
    expect(answer.headers.vary).toBe('*');
  });

  it('does not name Origin twice when the upstream already varies on it', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/vary-origin', EVIL);
    expect(answer.headers.vary).toBe('origin, Accept-Language');
  });

  it('merges several upstream Vary lines into one', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/vary-lines', APP);
    expect(answer.headers.vary).toBe('Accept-Encoding, Accept-Language, Origin');
    expect(countHeaderLines(answer.rawHeaders, 'vary')).toBe(1);
  });
});

describe('the upstream’s own Access-Control-* headers', () => {
  it('are replaced on a cors route, so each appears exactly once', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/own-cors', APP);
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
    for (const name of Object.keys(ALLOWED)) expect(countHeaderLines(answer.rawHeaders, name)).toBe(1);
  });

  it('are removed for a disallowed origin, so the upstream’s * lets nobody in', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/api/own-cors', EVIL);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });

  it('pass through untouched on a route without cors', async () => {
    const answer = await sendFromOrigin(gatehouse.port, PLAIN, '/api/own-cors', EVIL);
    expect(answer.status).toBe(200);
    expect(countHeaderLines(answer.rawHeaders, 'access-control-allow-origin')).toBe(2);
    expect(answer.headers['access-control-max-age']).toBe('86400');
    expect(answer.headers.vary).toBeUndefined();
  });
});

describe('the proxy’s own errors on a cors route', () => {
  it('404 for a path no route of a known host serves, with the host’s CORS headers', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/nothing-here', APP);
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
    expect(answer.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('502 when the upstream is down, with CORS headers for the allowed origin only', async () => {
    const allowed = await sendFromOrigin(gatehouse.port, DOWN, '/x', APP);
    expect(allowed.status).toBe(502);
    expect(accessControlHeaders(allowed.headers)).toEqual(ALLOWED);
    const other = await sendFromOrigin(gatehouse.port, DOWN, '/x', EVIL);
    expect(other.status).toBe(502);
    expect(accessControlHeaders(other.headers)).toEqual({});
  });

  it('504 when the upstream is slower than the route’s timeout, with CORS headers', async () => {
    const answer = await sendFromOrigin(gatehouse.port, API, '/slow/x', APP);
    expect(answer.status).toBe(504);
    expect(accessControlHeaders(answer.headers)).toEqual(ALLOWED);
  });

  it('no CORS headers on a 404 for a host no route serves', async () => {
    const answer = await sendFromOrigin(gatehouse.port, 'unknown.cors.test', '/', APP);
    expect(answer.status).toBe(404);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });
});

describe('a public policy (allowed_origins: [*], no credentials)', () => {
  it('answers * to any origin, never echoing it, and without credentials', async () => {
    const answer = await sendFromOrigin(gatehouse.port, OPEN, '/api/own-cors', 'https://anywhere.example');
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'X-Total',
    });
  });

  it('answers * also without Origin and adds no Vary, so a cached answer serves scripts too', async () => {
    const answer = await send(gatehouse.port, '/api/vary-accept-encoding', { host: OPEN });
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers.vary).toBe('Accept-Encoding');
  });
});

describe('Pomerium’s cross-origin guide on a route without cors', () => {
  it('sends the route’s static Access-Control-* set_response_headers on upstream answers', async () => {
    const answer = await sendFromOrigin(gatehouse.port, STATIC, '/api/items', APP);
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Total',
    });
  });

  it('lets the static values replace the upstream’s own', async () => {
    const answer = await sendFromOrigin(gatehouse.port, STATIC, '/api/own-cors', APP);
    expect(answer.headers['access-control-allow-origin']).toBe(APP);
    expect(countHeaderLines(answer.rawHeaders, 'access-control-allow-origin')).toBe(1);
    // What set_response_headers does not name stays the upstream's.
    expect(answer.headers['access-control-max-age']).toBe('86400');
  });

  it('forwards a preflight to the upstream, which answers it (cors_allow_preflight)', async () => {
    const before = upstream.requests.length;
    const answer = await sendPreflight(gatehouse.port, STATIC, '/api/items', { origin: APP, method: 'PUT' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'OPTIONS', origin: APP });
    expect(upstream.requests.length).toBe(before + 1);
    expect(upstream.lastRequest().headers['access-control-request-method']).toBe('PUT');
  });
});

describe('response headers configured next to a cors policy', () => {
  let other: TestGatehouse;

  beforeAll(async () => {
    other = await startGatehouse(`insecure_server: true
set_response_headers:
  Access-Control-Allow-Origin: "*"
  Access-Control-Allow-Methods: "*"
  X-Global: everywhere
routes:
  - from: http://${API}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
    set_response_headers:
      X-Route: api
${CORS}`);
  });

  afterAll(async () => {
    await other?.close();
  });

  it('do not put a global Access-Control-* on a refused preflight', async () => {
    const answer = await sendPreflight(other.port, API, '/api/items', { origin: EVIL, method: 'PUT' });
    expect(answer.status).toBe(403);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });

  it('do not replace what the policy answers a preflight', async () => {
    const answer = await sendPreflight(other.port, API, '/api/items', { origin: APP, method: 'PUT' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe(APP);
    expect(answer.headers['access-control-allow-methods']).toBe('PUT');
  });

  it('put the route’s own set_response_headers on preflights as on every other answer', async () => {
    const preflight = await sendPreflight(other.port, API, '/api/items', { origin: APP, method: 'PUT' });
    expect(preflight.headers['x-route']).toBe('api');
    expect(preflight.headers['x-global']).toBe('everywhere');
    const actual = await sendFromOrigin(other.port, API, '/api/items', APP);
    expect(actual.headers['x-route']).toBe('api');
    expect(actual.headers['access-control-allow-origin']).toBe(APP);
    expect(countHeaderLines(actual.rawHeaders, 'access-control-allow-methods')).toBe(0);
  });
});
