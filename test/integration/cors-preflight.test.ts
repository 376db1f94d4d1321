/**
 * CORS preflights through a real Gatehouse (DESIGN 5, rules 1 and 2; WHATWG Fetch, "CORS protocol"): the
 * proxy answers them itself — 204 with exactly the validated headers, or 403 without any Access-Control-*
 * header — and the upstream, which records every request it gets, never sees one. Methods match
 * case-sensitively, header names case-insensitively, request header lists are read tolerantly, `*` never
 * covers Authorization, and Private Network Access is answered only when allowed. An OPTIONS that is not
 * a preflight is an ordinary request and reaches the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, sendRaw } from '../harness/client.js';
import { accessControlHeaders, sendPreflight, type PreflightOptions } from '../harness/cors.js';
import { plainHttpConfig, publicRoute, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

const APP = 'https://app.example.com';
const API = 'api.preflight.cors.test';
const ANY_HEADER = 'any-header.preflight.cors.test';
const LAN = 'lan.preflight.cors.test';
const OPEN = 'open.preflight.cors.test';

let upstream: TestUpstream;
let gatehouse: TestGatehouse;

beforeAll(async () => {
  upstream = await startUpstream();
  gatehouse = await startGatehouse(
    plainHttpConfig(
      publicRoute(
        `http://${API}`,
        upstream.url,
        `    prefix: /api
    cors:
      allowed_origins: ["${APP}"]
      allowed_methods: [GET, PUT, DELETE, patch]
      allowed_headers: [Content-Type, X-Pomerium-Authorization]
      exposed_headers: [X-Request-Id]
      allow_credentials: true
      max_age: 600
`,
      ),
      publicRoute(
        `http://${ANY_HEADER}`,
        upstream.url,
        `    cors:
      allowed_origins: ["${APP}"]
      allowed_methods: [PUT]
      allowed_headers: ["*"]
`,
      ),
      publicRoute(
        `http://${LAN}`,
        upstream.url,
        `    cors:
      allowed_origins: ["${APP}"]
      allowed_methods: [PUT]
      allow_private_network: true
`,
      ),
      publicRoute(
        `http://${OPEN}`,
        upstream.url,
        `    cors:
      allowed_origins: ["*"]
      allowed_methods: ["*"]
      allowed_headers: [X-Custom]
`,
      ),
    ),
  );
});

afterAll(async () => {
  await gatehouse?.close();
  await upstream?.close();
});

/** A preflight to `host`, checking that the upstream never saw it. */
async function preflight(host: string, options: Partial<PreflightOptions> & { path?: string } = {}) {
  const before = upstream.requests.length;
  const answer = await sendPreflight(gatehouse.port, host, options.path ?? '/api/items', {
    origin: APP,
    method: 'PUT',
    ...options,
  });
  expect(upstream.requests.length, 'the preflight reached the upstream').toBe(before);
  expect(answer.status, 'a preflight is never redirected').not.toBe(302);
  return answer;
}

/** The answer to a refused preflight: 403, an empty body, and not one Access-Control-* header. */
function expectRefused(answer: Awaited<ReturnType<typeof preflight>>): void {
  expect(answer.status).toBe(403);
  expect(answer.body).toBe('');
  expect(accessControlHeaders(answer.headers)).toEqual({});
  expect(answer.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
}

describe('an allowed preflight', () => {
  it('gets 204, an empty body and exactly the validated headers', async () => {
    const answer = await preflight(API, { headers: 'Content-Type, X-Pomerium-Authorization' });
    expect(answer.status).toBe(204);
    expect(answer.body).toBe('');
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'PUT',
      'access-control-allow-headers': 'content-type, x-pomerium-authorization',
      'access-control-max-age': '600',
    });
    expect(answer.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never exposes headers on a preflight, only on actual answers', async () => {
    const answer = await preflight(API);
    expect(answer.headers['access-control-expose-headers']).toBeUndefined();
  });

  it.each(['GET', 'HEAD', 'POST'])('always allows the CORS-safelisted method %s', async (method) => {
    const answer = await preflight(API, { method, headers: 'content-type' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-methods']).toBe(method);
  });

  it('allows a lower-case method listed in lower case', async () => {
    const answer = await preflight(API, { method: 'patch' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-methods']).toBe('patch');
  });

  it('matches header names whatever their case', async () => {
    const answer = await preflight(API, { headers: 'CONTENT-TYPE,x-POMERIUM-authorization' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, x-pomerium-authorization');
  });

  it('reads a header list with spaces and empty items', async () => {
    const answer = await preflight(API, { headers: ' ,content-type ,,  x-pomerium-authorization , ' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, x-pomerium-authorization');
  });

  it('reads a header list sent on several field lines', async () => {
    const answer = await preflight(API, { headers: ['content-type', 'x-pomerium-authorization'] });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-headers']).toBe('content-type, x-pomerium-authorization');
  });

  it('is answered by the policy on a path no route serves and on Gatehouse’s own endpoints', async () => {
    for (const path of ['/not-routed', '/.pomerium/user', '/ping']) {
      const answer = await preflight(API, { path });
      expect(answer.status, path).toBe(204);
      expect(answer.headers['access-control-allow-origin']).toBe(APP);
    }
  });

  it('answers * with no credentials for a public policy, and any method for allowed_methods: [*]', async () => {
    const answer = await preflight(OPEN, { origin: 'https://anywhere.example', method: 'PROPFIND' });
    expect(answer.status).toBe(204);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'PROPFIND',
    });
  });
});

describe('a refused preflight gets 403 without any Access-Control-* header', () => {
  it('from an origin that is not allowed', async () => {
    expectRefused(await preflight(API, { origin: 'https://evilexample.com' }));
  });

  it('for a method that is not allowed', async () => {
    expectRefused(await preflight(API, { method: 'POSTX' }));
  });

  it('for an allowed method in another case (methods are case-sensitive)', async () => {
    expectRefused(await preflight(API, { method: 'Put' }));
    expectRefused(await preflight(API, { method: 'PATCH' }));
  });

  it('for a header that is not allowed, even next to allowed ones', async () => {
    expectRefused(await preflight(API, { headers: 'content-type, x-debug' }));
  });

  it('for a header not allowed on a second field line', async () => {
    expectRefused(await preflight(API, { headers: ['content-type', 'x-debug'] }));
  });

  it('for a header list with an item that is not a header name', async () => {
    expectRefused(await preflight(API, { headers: 'content-type, x debug' }));
  });

  it('for a method that is not a token', async () => {
    expectRefused(await preflight(API, { method: 'PUT,DELETE' }));
  });

  it('for Authorization under allowed_headers: [*], which never covers it', async () => {
    const any = await preflight(ANY_HEADER, { headers: 'x-anything, x-other' });
    expect(any.status).toBe(204);
    expect(any.headers['access-control-allow-headers']).toBe('x-anything, x-other');
    expectRefused(await preflight(ANY_HEADER, { headers: 'x-anything, Authorization' }));
  });

  it('for Private Network Access on a route that does not allow it', async () => {
    expectRefused(await preflight(API, { privateNetwork: 'true' }));
  });

  it('for a public policy’s method when the header is not allowed', async () => {
    const answer = await preflight(OPEN, { origin: 'https://anywhere.example', headers: 'x-other' });
    expect(answer.status).toBe(403);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });
});

describe('Private Network Access', () => {
  it('answers Access-Control-Allow-Private-Network: true when asked and allowed', async () => {
    const answer = await preflight(LAN, { privateNetwork: 'true' });
    expect(answer.status).toBe(204);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'PUT',
      'access-control-allow-private-network': 'true',
    });
    expect(answer.headers.vary).toMatch(/Access-Control-Request-Private-Network$/);
  });

  it('does not answer it when the preflight did not ask', async () => {
    const answer = await preflight(LAN);
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-private-network']).toBeUndefined();
  });
});

describe('an OPTIONS request that is not a preflight', () => {
  async function forwardedOptions(headers: Record<string, string>) {
    const before = upstream.requests.length;
    const answer = await send(gatehouse.port, '/api/items', { method: 'OPTIONS', host: API, headers });
    expect(answer.status).toBe(200);
    expect(upstream.requests.length).toBe(before + 1);
    expect(upstream.lastRequest().method).toBe('OPTIONS');
    return answer;
  }

  it('without Origin goes to the upstream', async () => {
    const answer = await forwardedOptions({ 'access-control-request-method': 'PUT' });
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });

  it('without Access-Control-Request-Method goes to the upstream, with the actual-response headers', async () => {
    const answer = await forwardedOptions({ origin: APP });
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Request-Id',
    });
  });

  it('with an empty Access-Control-Request-Method goes to the upstream', async () => {
    const answer = await forwardedOptions({ origin: APP, 'access-control-request-method': '' });
    expect(answer.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('with a blank Access-Control-Request-Method goes to the upstream', async () => {
    // Sent raw: the field's value is only whitespace, which HTTP parsing trims to empty.
    const before = upstream.requests.length;
    const raw = await sendRaw(
      gatehouse.port,
      `OPTIONS /api/items HTTP/1.1\r\nHost: ${API}\r\nOrigin: ${APP}\r\nAccess-Control-Request-Method:    \r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.requests.length).toBe(before + 1);
  });
});
