/**
 * A route's `cors:` block compiled once at load into the decisions the Fetch standard's CORS protocol
 * asks of a server (WHATWG Fetch, "CORS protocol"): which origins may read answers, which methods and
 * headers a preflight may ask for, and what to say back. Pure: no I/O, no clock.
 */
import type { OriginEntry } from '../config/cors-origins.js';
import type { CorsConfig } from '../config/schema.js';
import { compileHostPattern } from '../shared/host-pattern.js';

export interface CorsPolicy {
  /** Whether scripts of `origin` (the request's `Origin` value, as sent) may read this route's answers. */
  allowsOrigin(origin: string): boolean;
  /** `*` without credentials: the answer is the same for every origin (`Access-Control-Allow-Origin: *`). */
  readonly isPublic: boolean;
  readonly allowCredentials: boolean;
  /** Methods a preflight may name; undefined: any. Case-sensitive (Fetch: "byte-case-sensitive"). */
  readonly methods: ReadonlySet<string> | undefined;
  /** Lower-case header names a preflight may name. */
  readonly headers: ReadonlySet<string>;
  /** `*` in `allowed_headers`: any name but `authorization`, which a wildcard never covers (Fetch). */
  readonly anyHeader: boolean;
  /** `Access-Control-Expose-Headers`, or undefined when there is nothing to expose. */
  readonly exposeHeaders: string | undefined;
  readonly maxAge: number | undefined;
  readonly allowPrivateNetwork: boolean;
}

/**
 * The serialized origin a browser sends (Fetch, "serialization of an origin"): lower-case scheme and host,
 * no default port, no path. Anything else — `HTTPS://APP.EXAMPLE.COM`, `https://app.example.com:443`,
 * a trailing slash — is no browser's origin, and matches no entry but a regex that asks for it.
 */
const SERIALIZED_ORIGIN = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;
const DEFAULT_PORTS = { http: '80', https: '443' } as const;

interface OriginParts {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number | undefined;
}

function parseSerializedOrigin(origin: string): OriginParts | undefined {
  const match = SERIALIZED_ORIGIN.exec(origin);
  if (!match) return undefined;
  const [, scheme, host = '', port] = match as unknown as [
    string,
    'http' | 'https',
    string,
    string | undefined,
  ];
  if (port !== undefined && (port === DEFAULT_PORTS[scheme] || port.startsWith('0'))) return undefined;
  return { scheme, host, port: port === undefined ? undefined : Number(port) };
}

function compileOriginEntry(entry: OriginEntry): (origin: string) => boolean {
  switch (entry.kind) {
    case 'any':
      return () => true;
    case 'null':
      return () => false; // `null` is decided in compileCorsPolicy
    case 'exact':
      return (origin) => origin === entry.origin;
    case 'regex': {
      const regex = new RegExp(`^(?:${entry.source})$`, 'u');
      return (origin) => regex.test(origin);
    }
    case 'pattern': {
      const hostMatches = compileHostPattern(entry.host);
      return (origin) => {
        const parts = parseSerializedOrigin(origin);
        return (
          parts !== undefined &&
          parts.scheme === entry.scheme &&
          parts.port === entry.port &&
          hostMatches(parts.host)
        );
      };
    }
  }
}

export function compileCorsPolicy(config: CorsConfig): CorsPolicy {
  const matchers = config.allowed_origins.map(compileOriginEntry);
  const anyOrigin = config.allowed_origins.some((entry) => entry.kind === 'any');
  const isPublic = anyOrigin && !config.allow_credentials;
  // `null` is the opaque origin of sandboxed frames and data: pages of every site: only a literal `null`
  // entry admits it (DESIGN 5, rule 4), never `*` echoed with credentials or a regex. A public `*` answers
  // `*`, which browsers honour for every origin, null included, so there it is allowed like any other.
  const allowsNull = isPublic || config.allowed_origins.some((entry) => entry.kind === 'null');
  const exposed = config.exposed_headers;
  return {
    allowsOrigin: (origin) => (origin === 'null' ? allowsNull : matchers.some((matches) => matches(origin))),
    isPublic,
    allowCredentials: config.allow_credentials,
    methods: config.allowed_methods.includes('*') ? undefined : new Set(config.allowed_methods),
    headers: new Set(config.allowed_headers.filter((name) => name !== '*').map((name) => name.toLowerCase())),
    anyHeader: config.allowed_headers.includes('*'),
    exposeHeaders: exposed.length === 0 ? undefined : exposed.join(', '),
    maxAge: config.max_age,
    allowPrivateNetwork: config.allow_private_network,
  };
}
