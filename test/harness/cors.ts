/**
 * What CORS tests look at in an answer: its `Access-Control-*` headers, how often a header came on the
 * wire, and the preflight a browser sends (WHATWG Fetch, "CORS-preflight request").
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { send, type ClientResponse } from './client.js';

/** The `Access-Control-*` headers of a response, by lower-case name. */
export function accessControlHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('access-control-') && value !== undefined) found[name] = String(value);
  }
  return found;
}

/** How many field lines named `name` (any case) a response carried. */
export function countHeaderLines(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]?.toLowerCase() === name.toLowerCase()) count += 1;
  }
  return count;
}

export interface PreflightOptions {
  readonly origin: string;
  readonly method: string;
  /** `Access-Control-Request-Headers`: one field line, or several. */
  readonly headers?: string | readonly string[];
  /** `Access-Control-Request-Private-Network`. */
  readonly privateNetwork?: string;
  /** More request headers (a cookie, Sec-Fetch-*). */
  readonly extra?: OutgoingHttpHeaders;
}

/** A browser's preflight: `OPTIONS` with Origin and Access-Control-Request-Method, no credentials. */
export function sendPreflight(
  port: number,
  host: string,
  target: string,
  options: PreflightOptions,
): Promise<ClientResponse> {
  // Several field lines are an array; typed apart because Node's types know this header as one string.
  const asked: Record<string, string | string[]> = {};
  if (options.headers !== undefined) {
    asked['access-control-request-headers'] =
      typeof options.headers === 'string' ? options.headers : [...options.headers];
  }
  if (options.privateNetwork !== undefined) {
    asked['access-control-request-private-network'] = options.privateNetwork;
  }
  const headers: OutgoingHttpHeaders = {
    origin: options.origin,
    'access-control-request-method': options.method,
    accept: '*/*',
    'sec-fetch-mode': 'cors',
    ...asked,
    ...options.extra,
  };
  return send(port, target, { method: 'OPTIONS', host, headers });
}

/** A script's `fetch()` from `origin`: Origin and Fetch metadata, no cookie unless `extra` has one. */
export function sendFromOrigin(
  port: number,
  host: string,
  target: string,
  origin: string | undefined,
  init: { readonly method?: string; readonly extra?: OutgoingHttpHeaders; readonly body?: string } = {},
): Promise<ClientResponse> {
  return send(port, target, {
    method: init.method ?? 'GET',
    host,
    headers: {
      accept: '*/*',
      'sec-fetch-mode': 'cors',
      ...(origin === undefined ? {} : { origin }),
      ...init.extra,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

/** One case of test/fixtures/cors/origins.json: an origin a named policy allows or refuses. */
export interface OriginCase {
  readonly policy: string;
  readonly origin: string;
  readonly allowed: boolean;
  readonly note: string;
}

/** test/fixtures/cors/origins.json: `cors:` blocks by name, and the origins each allows or refuses. */
export interface OriginFixture {
  readonly policies: Readonly<Record<string, Record<string, unknown>>>;
  readonly cases: readonly OriginCase[];
}

export function readOriginFixture(): OriginFixture {
  return JSON.parse(
    readFileSync(new URL('../fixtures/cors/origins.json', import.meta.url), 'utf8'),
  ) as OriginFixture;
}

/** The `cors:` block named `policy` in the fixture; throws when there is none. */
export function fixturePolicy(fixture: OriginFixture, policy: string): Record<string, unknown> {
  const block = fixture.policies[policy];
  if (block === undefined) throw new TypeError(`no policy ${policy} in the fixture`);
  return block;
}
