/**
 * Which origins may read a route's answers, through a real Gatehouse: every case of
 * test/fixtures/cors/origins.json (exact origins, label-aware patterns, full-match regexes, null, any, and
 * their look-alikes) sent as a preflight and as an actual request. An allowed origin gets 204 with the
 * preflight headers and its origin (or `*`) on the answer; any other gets 403 without a single
 * Access-Control-* header on the preflight, and an answer without CORS headers. The upstream records that
 * no preflight ever reached it and that every actual request did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessControlHeaders,
  fixturePolicy,
  readOriginFixture,
  sendFromOrigin,
  sendPreflight,
} from '../harness/cors.js';
import { plainHttpConfig, publicRoute, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

const fixture = readOriginFixture();

/** Each fixture policy is one route on a host of its own. */
const hostOf = (policy: string) => `${policy}.origins.cors.test`;

/** What a preflight in these tests asks for, allowed by every policy. */
const METHODS = { allowed_methods: ['GET', 'PUT'], allowed_headers: ['Content-Type'], max_age: 60 };

let upstream: TestUpstream;
let gatehouse: TestGatehouse;

beforeAll(async () => {
  upstream = await startUpstream();
  const routes = Object.entries(fixture.policies).map(([name, policy]) =>
    // JSON is YAML: the policy goes in as a flow mapping.
    publicRoute(
      `http://${hostOf(name)}`,
      upstream.url,
      `    cors: ${JSON.stringify({ ...policy, ...METHODS })}\n`,
    ),
  );
  gatehouse = await startGatehouse(plainHttpConfig(...routes));
});

afterAll(async () => {
  await gatehouse?.close();
  await upstream?.close();
});

function isPublicPolicy(policy: Record<string, unknown>): boolean {
  const origins = policy.allowed_origins as readonly string[];
  return origins.includes('*') && policy.allow_credentials !== true;
}

describe.each(fixture.cases)('$policy: $note ($origin)', ({ policy, origin, allowed }) => {
  const config = fixturePolicy(fixture, policy);
  const host = hostOf(policy);
  const allowOrigin = isPublicPolicy(config) ? '*' : origin;
  const credentials = config.allow_credentials === true ? { 'access-control-allow-credentials': 'true' } : {};

  it(
    allowed ? 'is allowed: preflight 204, answer readable' : 'is refused: preflight 403, answer unreadable',
    async () => {
      const before = upstream.requests.length;
      const preflight = await sendPreflight(gatehouse.port, host, '/data', {
        origin,
        method: 'PUT',
        headers: 'content-type',
      });
      expect(upstream.requests.length).toBe(before);
      expect(preflight.status).toBe(allowed ? 204 : 403);
      expect(preflight.body).toBe('');
      expect(accessControlHeaders(preflight.headers)).toEqual(
        allowed
          ? {
              'access-control-allow-origin': allowOrigin,
              'access-control-allow-methods': 'PUT',
              'access-control-allow-headers': 'content-type',
              'access-control-max-age': '60',
              ...credentials,
            }
          : {},
      );

      const actual = await sendFromOrigin(gatehouse.port, host, '/data', origin);
      expect(actual.status).toBe(200);
      expect(upstream.requests.length).toBe(before + 1);
      expect(accessControlHeaders(actual.headers)).toEqual(
        allowed || isPublicPolicy(config)
          ? { 'access-control-allow-origin': allowOrigin, ...credentials }
          : {},
      );
    },
  );
});
