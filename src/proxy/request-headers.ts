/**
 * The headers a request carries upstream. Runs once per proxied request, so it makes one pass over
 * `req.rawHeaders` against sets built at module load.
 *
 * What the upstream may believe: hop-by-hop fields are gone (RFC 9110 §7.6.1); `X-Forwarded-*`,
 * `Forwarded` and `X-Real-Ip` are only passed on from a trusted proxy; `X-Pomerium-*` and `X-Request-Id`
 * are only ever the proxy's own. Names are also compared after folding case, `_` and `.` to `-`, because
 * PHP, CGI and some Python servers map `X_Forwarded_For` and `X-Forwarded-For` to the same variable —
 * the identity-header spoofing published in oauth2-proxy and Traefik security advisories.
 */
import { isIP } from 'node:net';
import { HOP_BY_HOP_HEADERS, connectionListedNames, listsOnlyConnectionOptions } from './hop-by-hop.js';

export interface UpstreamRequestHeaderInput {
  /** `req.rawHeaders`: names in the client's spelling, one entry per field line. */
  rawHeaders: readonly string[];
  /** Socket address of the direct peer. */
  peerIp: string;
  /** Whether the peer is in `trusted_proxies`. */
  peerIsTrusted: boolean;
  /** Scheme the client used to reach the proxy. */
  proto: 'http' | 'https';
  /** The Host the client sent. */
  host: string;
  requestId: string;
  /** Host to send upstream. */
  hostHeader: string;
  /** `set_request_headers`, applied last. */
  set: Readonly<Record<string, string>>;
  /** `remove_request_headers`, case-insensitive. */
  remove: readonly string[];
}

export type UpstreamHeaders = Record<string, string | string[]>;

/** Headers never forwarded as received: connection-level, answered by Node itself, or rewritten. */
const ALWAYS_REPLACED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP_HEADERS,
  // Node answers `100-continue` itself, and undici refuses to send `expect`.
  'expect',
  'host',
  'x-request-id',
]);

/** Headers describing earlier hops: believed only from a trusted proxy. */
const FORWARDING_HEADERS: ReadonlySet<string> = new Set(['forwarded', 'x-real-ip']);
const FORWARDED_PREFIX = 'x-forwarded-';
const POMERIUM_PREFIX = 'x-pomerium-';

/** Names the proxy sets; a differently spelled header that folds onto one of them is an attack. */
const PROXY_SET_NAMES: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
  'forwarded',
]);

const FOLDED_CHARACTERS = /[_.]/g;
const HAS_FOLDED_CHARACTER = /[_.]/;

export function foldHeaderName(name: string): string {
  return name.toLowerCase().replace(FOLDED_CHARACTERS, '-');
}

function isReservedOnceFolded(lowerName: string, setNamesFolded: ReadonlySet<string>): boolean {
  const folded = lowerName.replace(FOLDED_CHARACTERS, '-');
  return (
    PROXY_SET_NAMES.has(folded) ||
    folded.startsWith(FORWARDED_PREFIX) ||
    folded.startsWith(POMERIUM_PREFIX) ||
    setNamesFolded.has(folded)
  );
}

const NO_NAMES: ReadonlySet<string> = new Set();

function appendHeader(headers: UpstreamHeaders, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = value;
  else if (typeof existing === 'string') headers[name] = [existing, value];
  else existing.push(value);
}

function joinList(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

export function buildUpstreamRequestHeaders(input: UpstreamRequestHeaderInput): UpstreamHeaders {
  const { rawHeaders, peerIsTrusted, set } = input;
  const setNames = Object.keys(set);
  let setNamesLower = NO_NAMES;
  let setNamesFolded = NO_NAMES;
  if (setNames.length > 0) {
    setNamesLower = new Set(setNames.map((name) => name.toLowerCase()));
    setNamesFolded = new Set(setNames.map(foldHeaderName));
  }

  // A null prototype: header names such as `__proto__` or `constructor` are plain keys here.
  const headers = Object.create(null) as UpstreamHeaders;
  let connection: string[] | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (ALWAYS_REPLACED.has(name)) {
      if (name === 'connection' && !listsOnlyConnectionOptions(value)) (connection ??= []).push(value);
      continue;
    }
    if (name.startsWith(POMERIUM_PREFIX)) continue;
    if (HAS_FOLDED_CHARACTER.test(name) && isReservedOnceFolded(name, setNamesFolded)) continue;
    if (name.startsWith(FORWARDED_PREFIX) || FORWARDING_HEADERS.has(name)) {
      if (!peerIsTrusted) continue;
      if (name === 'x-forwarded-for') forwardedFor = joinList(forwardedFor, value);
      else if (name === 'x-forwarded-proto') forwardedProto ??= value;
      else if (name === 'x-forwarded-host') forwardedHost ??= value;
      else appendHeader(headers, name, value);
      continue;
    }
    if (setNamesLower.has(name)) continue;
    appendHeader(headers, name, value);
  }

  if (connection !== undefined) {
    for (const listed of connectionListedNames(connection)) {
      delete headers[listed];
      if (listed === 'x-forwarded-for') forwardedFor = undefined;
      else if (listed === 'x-forwarded-proto') forwardedProto = undefined;
      else if (listed === 'x-forwarded-host') forwardedHost = undefined;
    }
  }

  headers['x-forwarded-for'] = forwardedFor === undefined ? input.peerIp : `${forwardedFor}, ${input.peerIp}`;
  headers['x-forwarded-proto'] = forwardedProto ?? input.proto;
  headers['x-forwarded-host'] = forwardedHost ?? input.host;
  headers['x-request-id'] = input.requestId;
  headers.host = input.hostHeader;
  for (const name of input.remove) delete headers[name.toLowerCase()];
  for (const name of setNames) headers[name.toLowerCase()] = set[name] as string;
  return headers;
}

/**
 * The client's address for logs and `source_ip` policies. A trusted peer's `X-Forwarded-For` is walked
 * right to left past further trusted hops; the first untrusted address is the client, or the left-most
 * one when every hop is trusted. An entry that is not an IP address ends the walk at the last address a
 * trusted hop vouched for.
 */
export function resolveClientIp(
  peerIp: string,
  xForwardedFor: string | undefined,
  isTrusted: (ip: string) => boolean,
): string {
  if (xForwardedFor === undefined || !isTrusted(peerIp)) return peerIp;
  const hops = xForwardedFor.split(',');
  let client = peerIp;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = (hops[i] as string).trim();
    if (hop === '') continue;
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!isTrusted(hop)) return hop;
  }
  return client;
}
