/**
 * The pure half of a dynamic upstream (the cloud CORS proxy, DESIGN 1.4): which host and port a request
 * names in its headers, and whether the route's allowlists let it go there. Compiled once per route; no
 * I/O. Resolution and the address check after it live in dynamic-upstream.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { DynamicUpstreamConfig } from '../config/schema.js';
import { GatehouseError } from '../shared/errors.js';
import { compileHostPattern } from '../shared/host-pattern.js';
import { parseUpstreamHost, type UpstreamHost } from '../shared/upstream-host.js';

export interface DynamicTarget {
  readonly host: UpstreamHost;
  readonly port: number;
}

/** Reads and checks the target a request names; throws ERR_DYNAMIC_UPSTREAM_* GatehouseErrors. */
export type TargetReader = (headers: IncomingHttpHeaders) => DynamicTarget;

const PORT = /^[0-9]{1,5}$/;

/**
 * The one value of a header. Node joins repeated fields of unknown names with ", " (RFC 9110 §5.3), so
 * a request that names two hosts arrives as one value that is no host at all.
 */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function invalidHeader(message: string): GatehouseError {
  return new GatehouseError('ERR_DYNAMIC_UPSTREAM_HEADER_INVALID', message);
}

function refused(message: string): GatehouseError {
  return new GatehouseError('ERR_DYNAMIC_UPSTREAM_REFUSED', message);
}

/** `allowed_hosts` compiled: exact names and `*.` patterns label-aware, IP literals compared canonically. */
function compileHostAllowlist(entries: readonly string[]): (host: UpstreamHost) => boolean {
  const namePatterns: ((name: string) => boolean)[] = [];
  const addresses = new Set<string>();
  for (const entry of entries) {
    if (entry.startsWith('*.')) {
      namePatterns.push(compileHostPattern(entry));
      continue;
    }
    const host = parseUpstreamHost(entry);
    if (host === undefined) throw new TypeError(`allowed_hosts entry "${entry}" was not validated`);
    if (host.kind === 'ip') addresses.add(host.address);
    else namePatterns.push(compileHostPattern(host.name));
  }
  return (host) =>
    host.kind === 'ip' ? addresses.has(host.address) : namePatterns.some((matches) => matches(host.name));
}

export function compileTargetReader(config: DynamicUpstreamConfig): TargetReader {
  const hostHeader = config.host_header.toLowerCase();
  const portHeader = config.port_header.toLowerCase();
  const isAllowedHost = compileHostAllowlist(config.allowed_hosts);
  const allowedPorts = new Set(config.allowed_ports);

  return (headers) => {
    const hostText = headerValue(headers, hostHeader);
    if (hostText === undefined) {
      throw invalidHeader(`The ${hostHeader} header is missing: it names the upstream host.`);
    }
    const host = parseUpstreamHost(hostText);
    if (host === undefined) {
      throw invalidHeader(
        `The ${hostHeader} header is not a host name or IP address (a port goes in ${portHeader}).`,
      );
    }
    const portText = headerValue(headers, portHeader);
    if (portText === undefined) {
      throw invalidHeader(`The ${portHeader} header is missing: it names the upstream port.`);
    }
    const port = Number(portText);
    if (!PORT.test(portText) || port < 1 || port > 65535) {
      throw invalidHeader(`The ${portHeader} header is not a port number from 1 to 65535.`);
    }
    if (!allowedPorts.has(port)) throw refused(`Port ${port} is not an allowed upstream port on this route.`);
    // The host is shown canonical and valid (letters, digits, dots, hyphens, colons): nothing to escape.
    const shown = host.kind === 'ip' ? host.address : host.name;
    if (!isAllowedHost(host)) throw refused(`Host ${shown} is not an allowed upstream host on this route.`);
    return { host, port };
  };
}
