import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildUpstreamRequestHeaders,
  foldHeaderName,
  resolveClientIp,
  type UpstreamRequestHeaderInput,
} from './request-headers.js';

interface SpoofingFixture {
  setRequestHeaders: Record<string, string>;
  cases: { name: string; stripped: boolean; strippedFromTrustedPeer: boolean }[];
}

const spoofing = JSON.parse(
  readFileSync(new URL('../../test/fixtures/identity-header-spoofing.json', import.meta.url), 'utf8'),
) as SpoofingFixture;

function build(
  rawHeaders: string[],
  overrides: Partial<UpstreamRequestHeaderInput> = {},
): Record<string, string | string[]> {
  return buildUpstreamRequestHeaders({
    rawHeaders,
    peerIp: '203.0.113.7',
    peerIsTrusted: false,
    proto: 'https',
    host: 'app.example.com',
    requestId: 'req-1',
    hostHeader: 'upstream.internal:8080',
    set: {},
    remove: [],
    ...overrides,
  });
}

const MARKER = 'spoofed-value';

function carriesMarker(headers: Record<string, string | string[]>): boolean {
  return Object.values(headers).some((value) =>
    (Array.isArray(value) ? value : [value]).some((item) => item.includes(MARKER)),
  );
}

describe('buildUpstreamRequestHeaders: identity header spoofing', () => {
  describe.each([
    { peer: 'an untrusted client', peerIsTrusted: false },
    { peer: 'a trusted proxy', peerIsTrusted: true },
  ])('from $peer', ({ peerIsTrusted }) => {
    it.each(spoofing.cases)('handles $name', (testCase) => {
      const headers = build([testCase.name, MARKER], {
        peerIsTrusted,
        set: spoofing.setRequestHeaders,
      });
      const mustStrip = peerIsTrusted ? testCase.strippedFromTrustedPeer : testCase.stripped;
      expect(carriesMarker(headers)).toBe(!mustStrip);
    });
  });
});

describe('buildUpstreamRequestHeaders', () => {
  it('writes the forwarding headers from the connection for an untrusted peer', () => {
    expect(
      build([
        'X-Forwarded-For',
        '1.2.3.4',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Host',
        'evil.example',
        'Host',
        'app.example.com',
      ]),
    ).toEqual({
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-request-id': 'req-1',
      host: 'upstream.internal:8080',
    });
  });

  it("appends to a trusted proxy's X-Forwarded-For and keeps its proto and host", () => {
    const headers = build(
      [
        'X-Forwarded-For',
        '198.51.100.1',
        'x-forwarded-for',
        '10.0.0.2',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Host',
        'public.example',
      ],
      { peerIsTrusted: true },
    );
    expect(headers['x-forwarded-for']).toBe('198.51.100.1, 10.0.0.2, 203.0.113.7');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('public.example');
  });

  it('removes hop-by-hop headers and the names Connection lists', () => {
    const headers = build([
      'Connection',
      'keep-alive, X-Hop',
      'Keep-Alive',
      'timeout=5',
      'X-Hop',
      'secret',
      'TE',
      'trailers',
      'Transfer-Encoding',
      'chunked',
      'Upgrade',
      'h2c',
      'Proxy-Authorization',
      'Basic Zm9vOmJhcg==',
      'Expect',
      '100-continue',
      'Content-Type',
      'text/plain',
    ]);
    expect(Object.keys(headers).sort()).toEqual(
      [
        'content-type',
        'host',
        'x-forwarded-for',
        'x-forwarded-host',
        'x-forwarded-proto',
        'x-request-id',
      ].sort(),
    );
  });

  it("drops a trusted proxy's X-Forwarded-For when its Connection header lists it", () => {
    const headers = build(['Connection', 'X-Forwarded-For', 'X-Forwarded-For', '1.2.3.4'], {
      peerIsTrusted: true,
    });
    expect(headers['x-forwarded-for']).toBe('203.0.113.7');
  });

  it('keeps repeated headers as a list, in order', () => {
    const headers = build(['Cookie', 'a=1', 'Accept', 'text/html', 'cookie', 'b=2', 'COOKIE', 'c=3']);
    expect(headers.cookie).toEqual(['a=1', 'b=2', 'c=3']);
    expect(headers.accept).toBe('text/html');
  });

  it('replaces the client request id with its own', () => {
    expect(build(['X-Request-Id', 'client-chosen'])['x-request-id']).toBe('req-1');
  });

  it('applies remove_request_headers case-insensitively, then set_request_headers', () => {
    const headers = build(['Authorization', 'Bearer x', 'X-Api-Key', 'k', 'X-Tenant', 'client'], {
      remove: ['AUTHORIZATION', 'x-forwarded-host'],
      set: { 'X-Tenant': 'acme', 'X-Api-Key': 'route-key' },
    });
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-forwarded-host']).toBeUndefined();
    expect(headers['x-tenant']).toBe('acme');
    expect(headers['x-api-key']).toBe('route-key');
  });

  it('treats header names that are Object.prototype members as plain names', () => {
    const headers = build(['constructor', 'a', '__proto__', 'b', 'constructor', 'd']);
    expect(headers.constructor).toEqual(['a', 'd']);
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);
  });
});

describe('foldHeaderName', () => {
  it.each([
    ['X_Forwarded_For', 'x-forwarded-for'],
    ['X.Forwarded.Email', 'x-forwarded-email'],
    ['X-POMERIUM-JWT-ASSERTION', 'x-pomerium-jwt-assertion'],
    ['x_pomerium.claim-email', 'x-pomerium-claim-email'],
  ])('folds %s to %s', (name, folded) => {
    expect(foldHeaderName(name)).toBe(folded);
  });
});

describe('resolveClientIp', () => {
  const trusted = new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  const isTrusted = (ip: string): boolean => trusted.has(ip);

  it.each([
    {
      case: 'an untrusted peer is the client, whatever it claims',
      peer: '203.0.113.9',
      xff: '1.1.1.1',
      client: '203.0.113.9',
    },
    {
      case: 'a trusted peer without X-Forwarded-For is the client',
      peer: '10.0.0.1',
      xff: undefined,
      client: '10.0.0.1',
    },
    {
      case: 'the right-most untrusted hop is the client',
      peer: '10.0.0.1',
      xff: '6.6.6.6, 198.51.100.4',
      client: '198.51.100.4',
    },
    {
      case: 'trusted hops are skipped right to left',
      peer: '10.0.0.1',
      xff: '6.6.6.6, 198.51.100.4, 10.0.0.3 ,10.0.0.2',
      client: '198.51.100.4',
    },
    {
      case: 'the left-most hop when every hop is trusted',
      peer: '10.0.0.1',
      xff: '10.0.0.3, 10.0.0.2',
      client: '10.0.0.3',
    },
    {
      case: 'empty list items are ignored',
      peer: '10.0.0.1',
      xff: ' , 198.51.100.4,',
      client: '198.51.100.4',
    },
    {
      case: 'a non-address ends the walk at the last vouched hop',
      peer: '10.0.0.1',
      xff: '198.51.100.4, unknown, 10.0.0.2',
      client: '10.0.0.2',
    },
    {
      case: 'garbage next to the peer leaves the peer',
      peer: '10.0.0.1',
      xff: 'not-an-ip',
      client: '10.0.0.1',
    },
    { case: 'IPv6 hops are addresses', peer: '10.0.0.1', xff: '2001:db8::1', client: '2001:db8::1' },
  ])('$case', ({ peer, xff, client }) => {
    expect(resolveClientIp(peer, xff, isTrusted)).toBe(client);
  });
});
