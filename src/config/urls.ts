/**
 * Parsing of the two URL-shaped route keys, `from` and `to`, into plain data the router and the
 * forwarder use without parsing again. Each returns a value or a message saying what is wrong.
 */
import { normalize } from 'node:path';

export interface RouteFrom {
  readonly url: string;
  readonly scheme: 'http' | 'https';
  /** Lower-case host name; may start with `*.` for a wildcard. IPv6 literals keep their brackets. */
  readonly host: string;
  /** Only set when `from` names a port explicitly (even the scheme's default). */
  readonly port?: number;
}

export interface UpstreamUrl {
  readonly url: string;
  readonly protocol: 'http:' | 'https:';
  /** `scheme://host:port`, the connection pool key. */
  readonly origin: string;
  /** The Host header value the upstream expects by default (`host[:port]`, port only when not default). */
  readonly host: string;
  /** Host name for TLS SNI and certificate checks (no brackets for IPv6). */
  readonly servername: string;
  /** A path prefix from the URL, without a trailing slash (`''` when the URL has none). */
  readonly basePath: string;
}

/** A `to: file:///dir` target: the route serves the files under `root` instead of forwarding. */
export interface StaticRoot {
  readonly url: string;
  readonly protocol: 'file:';
  /** Absolute, normalized, without a trailing slash; never `/` itself. */
  readonly root: string;
}

/** One entry of a route's `to`. */
export type RouteTarget = UpstreamUrl | StaticRoot;

export function isStaticRoot(target: RouteTarget): target is StaticRoot {
  return target.protocol === 'file:';
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const AUTHORITY = /^(https?):\/\/([^/?#]*)(.*)$/i;
const PORT = /:(\d*)$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function parsePort(text: string): number | undefined {
  const port = Number(text);
  return text !== '' && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** Accepts DNS names (with one leading `*.` label when wildcards are allowed) and IP literals. */
function isValidHost(host: string, allowWildcard: boolean): boolean {
  if (host.startsWith('[') && host.endsWith(']')) {
    try {
      return new URL(`http://${host}/`).hostname === host;
    } catch {
      return false;
    }
  }
  const labels = host.split('.');
  if (allowWildcard && labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((label) => LABEL.test(label));
}

export function parseRouteFrom(url: string): Parsed<RouteFrom> {
  const match = AUTHORITY.exec(url.trim());
  if (!match)
    return { ok: false, message: 'must be an http:// or https:// URL such as https://app.example.com' };
  const [, scheme = '', authority = '', rest = ''] = match;
  if (rest !== '' && rest !== '/') {
    return {
      ok: false,
      message: `must name only a scheme, host and port; use prefix, path or regex to match "${rest}"`,
    };
  }
  if (authority.includes('@')) return { ok: false, message: 'may not contain user information' };
  let host = authority.toLowerCase();
  let port: number | undefined;
  const portMatch = PORT.exec(host);
  if (portMatch && !host.endsWith(']')) {
    port = parsePort(portMatch[1] ?? '');
    if (port === undefined)
      return { ok: false, message: `port "${portMatch[1]}" is not between 1 and 65535` };
    host = host.slice(0, portMatch.index);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!isValidHost(host, true)) {
    return {
      ok: false,
      message: `"${host}" is not a valid host name (a wildcard may only be a leading "*.")`,
    };
  }
  const from: RouteFrom = { url, scheme: scheme.toLowerCase() as 'http' | 'https', host };
  return { ok: true, value: port === undefined ? from : { ...from, port } };
}

export function parseUpstreamUrl(url: string): Parsed<UpstreamUrl> {
  const explicitPort = /^[a-z]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(url.trim());
  if (explicitPort && parsePort(explicitPort[1] ?? '') === undefined) {
    return { ok: false, message: `port "${explicitPort[1]}" is not between 1 and 65535` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return { ok: false, message: `"${url}" is not a valid URL` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      message: `scheme "${parsed.protocol.slice(0, -1)}" is not supported; use http:// or https://`,
    };
  }
  if (parsed.username || parsed.password) return { ok: false, message: 'may not contain user information' };
  if (parsed.search || parsed.hash) return { ok: false, message: 'may not contain a query or fragment' };
  const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
  const port = parsed.port || defaultPort;
  return {
    ok: true,
    value: {
      url,
      protocol: parsed.protocol,
      origin: `${parsed.protocol}//${parsed.hostname}:${port}`,
      host: parsed.host,
      servername: parsed.hostname.replace(/^\[|\]$/g, ''),
      basePath: parsed.pathname.replace(/\/+$/, ''),
    },
  };
}

const FILE_URL = /^file:(.*)$/is;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/**
 * `file:///dir` only: no host (`file://host/dir` names another machine), an absolute path, no query or
 * fragment. Percent escapes in the path are decoded (`file:///srv/my%20app`). Whether the directory
 * exists is checked where the config is validated (static-root.ts), not here.
 */
function parseStaticRoot(url: string): Parsed<StaticRoot> {
  const match = FILE_URL.exec(url.trim());
  const rest = match?.[1] ?? '';
  if (!rest.startsWith('//')) {
    return {
      ok: false,
      message: 'must be file:/// followed by an absolute directory path, like file:///srv/app',
    };
  }
  const afterSlashes = rest.slice(2);
  if (!afterSlashes.startsWith('/')) {
    return {
      ok: false,
      message:
        'may not name a host; write file:/// followed by an absolute directory path, like file:///srv/app',
    };
  }
  if (/[?#]/.test(afterSlashes)) return { ok: false, message: 'may not contain a query or fragment' };
  let path: string;
  try {
    path = decodeURIComponent(afterSlashes);
  } catch {
    return { ok: false, message: 'has an invalid percent escape in its path' };
  }
  if (CONTROL_CHARACTER.test(path)) return { ok: false, message: 'may not contain control characters' };
  const root = normalize(path).replace(/\/+$/, '');
  if (root === '') return { ok: false, message: 'may not serve the whole file system; name a directory' };
  return { ok: true, value: { url, protocol: 'file:', root } };
}

/** One `to` entry: an http(s) upstream, or a `file:///dir` to serve files from. */
export function parseRouteTarget(url: string): Parsed<RouteTarget> {
  return FILE_URL.test(url.trim()) ? parseStaticRoot(url) : parseUpstreamUrl(url);
}
