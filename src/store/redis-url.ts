/**
 * Parses `databroker_storage_connection_string` into a Redis deployment, in the forms Pomerium documented
 * for its Redis backend:
 *
 *   redis://[[user]:password@]host[:port][/db]                       one server (rediss:// for TLS)
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/master_name[/db]    (rediss+sentinel://)
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]…]                     (rediss+cluster://)
 *
 * Ports default to 6379, and to 26379 for sentinels. The password authenticates to the Redis servers, not
 * to the sentinels. Connection strings carry passwords, so no message here ever repeats the input; use
 * describeRedisTarget for a redacted form to log.
 */
import { GatehouseError } from '../shared/errors.js';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

interface RedisCredentials {
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
}

export interface StandaloneTarget extends RedisCredentials {
  readonly mode: 'standalone';
  readonly address: RedisAddress;
  readonly db: number;
}

export interface SentinelTarget extends RedisCredentials {
  readonly mode: 'sentinel';
  readonly sentinels: readonly RedisAddress[];
  readonly masterName: string;
  readonly db: number;
}

export interface ClusterTarget extends RedisCredentials {
  readonly mode: 'cluster';
  readonly nodes: readonly RedisAddress[];
}

export type RedisTarget = StandaloneTarget | SentinelTarget | ClusterTarget;

const CONFIG_KEY = 'databroker_storage_connection_string';
const SCHEMES: Readonly<Record<string, { mode: RedisTarget['mode']; tls: boolean }>> = {
  redis: { mode: 'standalone', tls: false },
  rediss: { mode: 'standalone', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
};
const SCHEME_LIST = Object.keys(SCHEMES)
  .map((scheme) => `${scheme}://`)
  .join(', ');
const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const IPV6_LITERAL = /^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$/;

function invalid(problem: string): GatehouseError {
  return new GatehouseError('ERR_CONFIG_INVALID', `${CONFIG_KEY}: ${problem}`);
}

export function parseRedisConnectionString(input: string): RedisTarget {
  const schemeEnd = input.indexOf('://');
  const scheme = schemeEnd === -1 ? undefined : input.slice(0, schemeEnd).toLowerCase();
  const kind = scheme === undefined ? undefined : SCHEMES[scheme];
  if (kind === undefined) {
    throw invalid(`must start with one of ${SCHEME_LIST}`);
  }
  // The last `@` ends the credentials: a password pasted without percent-encoding may contain `@` or `/`,
  // while hosts, master names and database numbers never do.
  const rest = input.slice(schemeEnd + 3);
  const credentialsEnd = rest.lastIndexOf('@');
  const credentials = parseCredentials(credentialsEnd === -1 ? undefined : rest.slice(0, credentialsEnd));
  const location = rest.slice(credentialsEnd + 1);
  if (/[?#]/.test(location)) throw invalid('query parameters and fragments are not supported');
  const pathStart = location.indexOf('/');
  const hostList = pathStart === -1 ? location : location.slice(0, pathStart);
  const pathSegments = pathStart === -1 ? [] : location.slice(pathStart + 1).split('/');
  if (pathSegments.at(-1) === '') pathSegments.pop();
  const common = { tls: kind.tls, ...credentials };

  switch (kind.mode) {
    case 'standalone': {
      const [address, ...others] = parseHostList(hostList, DEFAULT_PORT);
      if (address === undefined || others.length > 0) {
        throw invalid(
          `${scheme}:// takes exactly one host; use redis+sentinel:// or redis+cluster:// for several`,
        );
      }
      if (pathSegments.length > 1) throw invalid('the path may only be a database number, as in /0');
      return { mode: 'standalone', address, db: parseDb(pathSegments[0]), ...common };
    }
    case 'sentinel': {
      const sentinels = parseHostList(hostList, DEFAULT_SENTINEL_PORT);
      const [masterName, db, ...extra] = pathSegments;
      if (masterName === undefined || masterName === '') {
        throw invalid(`names no master: use ${scheme}://host:26379/<master name>[/<db>]`);
      }
      if (extra.length > 0) throw invalid('the path may only be /<master name>[/<db>]');
      return {
        mode: 'sentinel',
        sentinels,
        masterName: decodePart(masterName, 'master name'),
        db: parseDb(db),
        ...common,
      };
    }
    case 'cluster': {
      const nodes = parseHostList(hostList, DEFAULT_PORT);
      if (pathSegments.length > 0)
        throw invalid('a Redis Cluster has only database 0, so the URL takes no path');
      return { mode: 'cluster', nodes, ...common };
    }
  }
}

/** The target as a connection string with the password replaced by `***`, for logs and messages. */
export function describeRedisTarget(target: RedisTarget): string {
  const scheme = Object.entries(SCHEMES).find(
    ([, kind]) => kind.mode === target.mode && kind.tls === target.tls,
  )?.[0];
  const user = target.username === undefined ? '' : encodeURIComponent(target.username);
  const credentials = target.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:***@`;
  const hosts = (
    target.mode === 'standalone'
      ? [target.address]
      : target.mode === 'sentinel'
        ? target.sentinels
        : target.nodes
  )
    .map(formatAddress)
    .join(',');
  const path =
    target.mode === 'standalone'
      ? `/${target.db}`
      : target.mode === 'sentinel'
        ? `/${encodeURIComponent(target.masterName)}/${target.db}`
        : '';
  return `${scheme}://${credentials}${hosts}${path}`;
}

function formatAddress(address: RedisAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

function parseCredentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (userinfo === undefined) return {};
  const separator = userinfo.indexOf(':');
  const username = decodePart(separator === -1 ? userinfo : userinfo.slice(0, separator), 'user name');
  const password = separator === -1 ? '' : decodePart(userinfo.slice(separator + 1), 'password');
  if (password === '') {
    if (username === '') return {};
    throw invalid('has a user name but no password; write user:password@ or :password@');
  }
  return { ...(username === '' ? {} : { username }), password };
}

function decodePart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`the ${what} has a malformed percent-encoding`);
  }
}

function parseHostList(hostList: string, defaultPort: number): RedisAddress[] {
  if (hostList === '') throw invalid('names no host');
  return hostList.split(',').map((entry) => parseAddress(entry.trim(), defaultPort));
}

/** `host`, `host:port`, `[ipv6]` or `[ipv6]:port`. */
function parseAddress(entry: string, defaultPort: number): RedisAddress {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  const colon = entry.indexOf(':');
  const hostPart = bracketed ? bracketed[1] : colon === -1 ? entry : entry.slice(0, colon);
  const portPart = bracketed ? bracketed[2] : colon === -1 ? undefined : entry.slice(colon + 1);
  if (hostPart === undefined || hostPart === '') throw invalid('has an empty host in its host list');
  const isValidHost = bracketed ? IPV6_LITERAL.test(hostPart) : HOST_NAME.test(hostPart);
  if (!isValidHost) throw invalid(`has an invalid host "${hostPart}"`);
  if (portPart === undefined) return { host: hostPart, port: defaultPort };
  const port = /^\d{1,5}$/.test(portPart) ? Number(portPart) : NaN;
  if (!(port >= 1 && port <= 65535)) throw invalid(`host "${hostPart}" has an invalid port`);
  return { host: hostPart, port };
}

function parseDb(segment: string | undefined): number {
  if (segment === undefined || segment === '') return 0;
  if (!/^\d{1,5}$/.test(segment)) throw invalid('the database must be a number, as in /0');
  return Number(segment);
}
