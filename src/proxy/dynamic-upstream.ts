/**
 * A route whose upstream each request names in its headers — the cloud CORS proxy (DESIGN 1.4, the
 * Exosphere pattern): `exo-proxy-orig-host: keystone.cloud.example`, `exo-proxy-orig-port: 5000`.
 *
 * A proxy that connects where requests tell it is a server-side request forgery tool unless it checks
 * where the connection really goes. So, in order:
 * 1. the host and port must be on the route's allowlists (dynamic-target.ts);
 * 2. a name is resolved once, with the system resolver, and every address it resolves to must be public
 *    (address-class.ts) — a public name pointing at 127.0.0.1 or 169.254.169.254 is refused;
 * 3. the connection goes to the address that was checked: the target's origin IS that address, so undici
 *    never looks the name up again (a second answer from an attacker's DNS — rebinding — cannot change
 *    where it connects), while TLS SNI, the certificate check and the Host header keep the name.
 *
 * Connections are pooled per checked address and name, in a small LRU: a busy SPA keeps its keep-alive
 * connections, and a client naming many hosts cannot make the proxy hold a pool for each.
 */
import { lookup as systemLookup } from 'node:dns/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { DynamicUpstreamConfig } from '../config/schema.js';
import type { UpstreamUrl } from '../config/urls.js';
import { classifyAddress } from '../shared/address-class.js';
import { GatehouseError } from '../shared/errors.js';
import { formatUpstreamHost } from '../shared/upstream-host.js';
import { compileTargetReader, type DynamicTarget } from './dynamic-target.js';
import { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export type Lookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface DynamicUpstreamOptions {
  readonly config: DynamicUpstreamConfig;
  /** The route's upstream settings, for every pool this route opens. */
  readonly poolOptions: Omit<UpstreamPoolOptions, 'targets'>;
  /** The system resolver (getaddrinfo: /etc/hosts, then DNS) unless a unit test brings its own. */
  readonly lookup?: Lookup;
  readonly createPool?: (options: UpstreamPoolOptions) => UpstreamPool;
  /** Pools kept open at once; the least recently used one is closed beyond it. */
  readonly maxPools?: number;
}

export interface DynamicUpstream {
  /** The request headers that name the target; they are not sent upstream. */
  readonly targetHeaders: readonly string[];
  /**
   * The checked target of one request: its origin is the address to connect to, its `host` and
   * `servername` the name the request gave. Rejects with a GatehouseError: 400 for a missing or invalid
   * header, 403 for a host, port or address the route does not allow, 502 when the name does not
   * resolve, 504 when resolving takes longer than the route's timeout.
   */
  resolveTarget(headers: IncomingHttpHeaders): Promise<UpstreamUrl>;
  /** Dispatches each request to the pool of its target; it has no target of its own (`next` throws). */
  readonly pool: UpstreamPool;
}

const DEFAULT_MAX_POOLS = 32;
/** Resolving waits at most this long, or the route's timeout when shorter. */
const MAX_LOOKUP_MS = 10_000;

const resolveWithSystem: Lookup = (hostname) => systemLookup(hostname, { all: true, verbatim: true });

function refusedAddress(message: string, detail: string): GatehouseError {
  // The address and its class go to the log (cause), not to the client.
  return new GatehouseError('ERR_DYNAMIC_UPSTREAM_REFUSED', message, { cause: new Error(detail) });
}

/** Whether a connection may go to `address`: public, or anything with `allow_private_addresses`. */
function isAllowedAddress(address: string, allowPrivate: boolean): boolean {
  // A zone id (`fe80::1%eth0`) names an interface of this machine; such an address is never reachable
  // through a URL authority, so it is refused even when private addresses are allowed.
  if (address.includes('%')) return false;
  return allowPrivate || classifyAddress(address) === 'public';
}

function describeAddress(address: string): string {
  return address.includes('%') ? `${address} (scoped)` : `${address} (${classifyAddress(address)})`;
}

function lookupFailed(name: string, cause: unknown): GatehouseError {
  return new GatehouseError('ERR_DYNAMIC_UPSTREAM_UNRESOLVED', `${name} could not be resolved`, { cause });
}

export function createDynamicUpstream(options: DynamicUpstreamOptions): DynamicUpstream {
  const { config, poolOptions } = options;
  const readTarget = compileTargetReader(config);
  const lookup = options.lookup ?? resolveWithSystem;
  const createPool = options.createPool ?? createUpstreamPool;
  const maxPools = options.maxPools ?? DEFAULT_MAX_POOLS;
  const allowPrivate = config.allow_private_addresses;
  const lookupTimeoutMs =
    poolOptions.timeoutMs > 0 ? Math.min(poolOptions.timeoutMs, MAX_LOOKUP_MS) : MAX_LOOKUP_MS;
  const scheme = config.scheme;
  const defaultPort = scheme === 'https' ? 443 : 80;
  /** Least recently used first: a Map keeps insertion order, and each use re-inserts its key. */
  const pools = new Map<string, UpstreamPool>();
  let closed = false;

  async function resolveName(name: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new GatehouseError('ERR_UPSTREAM_TIMEOUT', `resolving ${name} timed out`)),
        lookupTimeoutMs,
      );
    });
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await Promise.race([lookup(name), timeout]);
    } catch (error) {
      throw error instanceof GatehouseError ? error : lookupFailed(name, error);
    } finally {
      clearTimeout(timer);
    }
    const first = addresses[0];
    if (first === undefined) throw lookupFailed(name, new Error('no addresses'));
    // Every address must pass, not only the one used: a name that also points inside is not a public host.
    const inside = addresses.find(({ address }) => !isAllowedAddress(address, allowPrivate));
    if (inside !== undefined) {
      throw refusedAddress(
        `Host ${name} resolves to an address that is not public; this route only reaches public addresses.`,
        `${name} resolves to ${describeAddress(inside.address)}`,
      );
    }
    return first.address;
  }

  function toUpstreamUrl({ host, port }: DynamicTarget, address: string): UpstreamUrl {
    const authority = formatUpstreamHost(host) + (port === defaultPort ? '' : `:${port}`);
    const connectTo = address.includes(':') ? `[${address}]` : address;
    return {
      url: `${scheme}://${authority}`,
      protocol: `${scheme}:`,
      origin: `${scheme}://${connectTo}:${port}`,
      host: authority,
      servername: host.kind === 'name' ? host.name : host.address,
      basePath: '',
    };
  }

  function poolFor(target: UpstreamUrl): UpstreamPool {
    const key = `${target.origin} ${target.servername}`;
    const pool = pools.get(key);
    if (pool !== undefined) {
      pools.delete(key);
      pools.set(key, pool);
      return pool;
    }
    const created = createPool({ ...poolOptions, targets: [target] });
    if (closed) {
      // A request that outlived its runtime: served, then the pool goes (close waits for it).
      queueMicrotask(() => void closeQuietly(created));
      return created;
    }
    pools.set(key, created);
    if (pools.size > maxPools) {
      const [oldestKey, oldest] = pools.entries().next().value as [string, UpstreamPool];
      pools.delete(oldestKey);
      // Requests already dispatched to it finish first: undici's close waits for them.
      void closeQuietly(oldest);
    }
    return created;
  }

  return {
    targetHeaders: [config.host_header.toLowerCase(), config.port_header.toLowerCase()],
    async resolveTarget(headers) {
      const target = readTarget(headers);
      const { host } = target;
      if (host.kind === 'ip') {
        if (!isAllowedAddress(host.address, allowPrivate)) {
          throw refusedAddress(
            `The address ${host.address} is not public; this route only reaches public addresses.`,
            describeAddress(host.address),
          );
        }
        return toUpstreamUrl(target, host.address);
      }
      return toUpstreamUrl(target, await resolveName(host.name));
    },
    pool: {
      next() {
        throw new TypeError('a dynamic upstream has no target of its own: use resolveTarget');
      },
      dispatch(request, handler) {
        poolFor(request.target).dispatch(request, handler);
      },
      async close() {
        closed = true;
        const open = [...pools.values()];
        pools.clear();
        await Promise.all(open.map((pool) => pool.close()));
      },
    },
  };
}

/** Closing an evicted pool can only fail for reasons that no longer matter to anyone. */
async function closeQuietly(pool: UpstreamPool): Promise<void> {
  try {
    await pool.close();
  } catch {
    // nothing waits for this pool any more
  }
}
