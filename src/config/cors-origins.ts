/**
 * The entries of a route's `cors.allowed_origins`, parsed once at load into what they mean (DESIGN 5):
 *
 * - an origin, `https://app.example.com` — written in any case and with or without the scheme's default
 *   port, kept in the serialized form browsers send (Fetch standard, "serialization of an origin");
 * - a pattern, `https://*.example.com[:port]` — one or more labels under the domain, never the apex;
 * - a regular expression between slashes, `/^https://(a|b)\.example\.org$/` — matched against the whole
 *   origin;
 * - `null` — the opaque origin of sandboxed frames and `file:` pages, matched only by this literal entry;
 * - `*` — any origin.
 */
import type { Parsed } from './urls.js';

export type OriginEntry =
  | { readonly kind: 'exact'; readonly origin: string }
  | {
      readonly kind: 'pattern';
      readonly scheme: 'http' | 'https';
      /** The host pattern, `*.example.com`, lower case. */
      readonly host: string;
      /** Only when written; otherwise the scheme's default port, which a serialized origin leaves out. */
      readonly port: number | undefined;
    }
  | { readonly kind: 'regex'; readonly source: string }
  | { readonly kind: 'null' }
  | { readonly kind: 'any' };

const DEFAULT_PORTS = { http: 80, https: 443 } as const;
/** A DNS name: letter-digit-hyphen labels. */
const DNS_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
const PATTERN = /^(https?):\/\/\*\.([^/:]+)(?::(\d{1,5}))?$/i;

function refuse(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

/** Why a regular expression does not compile, or undefined when it does. */
function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.slice(message.lastIndexOf(': ') + 2);
  }
}

export function parseOriginEntry(entry: string): Parsed<OriginEntry> {
  if (entry === '*') return { ok: true, value: { kind: 'any' } };
  if (entry === 'null') return { ok: true, value: { kind: 'null' } };
  if (entry.length >= 2 && entry.startsWith('/') && entry.endsWith('/')) {
    const source = entry.slice(1, -1);
    const problem = source === '' ? 'it is empty' : regexProblem(source);
    return problem === undefined
      ? { ok: true, value: { kind: 'regex', source } }
      : refuse(`is not a valid regular expression: ${problem}`);
  }
  const pattern = PATTERN.exec(entry);
  if (pattern) {
    const [, scheme = '', domain = '', portText] = pattern;
    const host = domain.toLowerCase();
    if (!DNS_NAME.test(host)) return refuse(`"*.${domain}" is not a wildcard over a DNS name`);
    const port = portText === undefined ? undefined : Number(portText);
    if (port !== undefined && (port < 1 || port > 65535)) return refuse(`port ${portText} is out of range`);
    const lowerScheme = scheme.toLowerCase() as 'http' | 'https';
    return {
      ok: true,
      value: {
        kind: 'pattern',
        scheme: lowerScheme,
        host: `*.${host}`,
        port: port === DEFAULT_PORTS[lowerScheme] ? undefined : port,
      },
    };
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return refuse(
      'is not an origin (https://app.example.com), a pattern (https://*.example.com), a /regex/, null or *',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse(`scheme "${url.protocol.slice(0, -1)}" is not http or https`);
  }
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    return refuse(`must be only a scheme, host and port, like ${url.origin}`);
  }
  if (entry.endsWith('/')) return refuse(`must not end with "/": browsers send ${url.origin}`);
  if (url.hostname.includes('*')) {
    return refuse('may only have a wildcard as its first label, like https://*.example.com');
  }
  return { ok: true, value: { kind: 'exact', origin: url.origin } };
}
