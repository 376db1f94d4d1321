/**
 * The development IdP signs in anyone who clicks a name, so it must only ever be reachable from this
 * machine: it accepts loopback host names only, and checks the address it actually bound to.
 */
import { GatehouseError } from '../shared/errors.js';
import { compileIpRanges } from '../shared/ip-range.js';

export const loopbackHosts = ['127.0.0.1', 'localhost', '::1'] as const;
export type LoopbackHost = (typeof loopbackHosts)[number];

/** 127.0.0.0/8 and ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3); IPv4-mapped forms count as IPv4. */
export const isLoopbackAddress = compileIpRanges(['127.0.0.0/8', '::1/128']);

function isLoopbackHost(host: string): host is LoopbackHost {
  return (loopbackHosts as readonly string[]).includes(host);
}

/** Returns the host unchanged, or refuses anything but a loopback name (0.0.0.0 and :: included). */
export function requireLoopbackHost(host: string): LoopbackHost {
  if (isLoopbackHost(host)) return host;
  throw new GatehouseError(
    'ERR_CONFIG_INVALID',
    `the development IdP signs anyone in without a password, so it listens on loopback only ` +
      `(${loopbackHosts.join(', ')}); refusing host ${JSON.stringify(host)}`,
  );
}

/** The host as it appears in a URL: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: LoopbackHost): string {
  return host === '::1' ? '[::1]' : host;
}
