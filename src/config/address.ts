/**
 * The listen `address`, in Go's `net.Listen` forms that Pomerium configs use: `:port`, `host:port`,
 * `[ipv6]:port`. Port 0 asks the OS for any free port (tests rely on it).
 */
import { isIP } from 'node:net';
import { GatehouseError } from '../shared/errors.js';
import type { Parsed } from './urls.js';

export interface ListenAddress {
  /** Undefined listens on every interface. IPv6 literals come without brackets, as `net.listen` wants. */
  readonly host: string | undefined;
  readonly port: number;
}

const TLS_DEFAULT = ':8443';
const INSECURE_DEFAULT = ':8080';
const HOST_NAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;
const PORT = /^\d{1,5}$/;
const FORMS = 'write it as :port, host:port or [ipv6]:port, such as :8443 or 127.0.0.1:8443';

export function readListenAddress(address: string | undefined, insecure: boolean): Parsed<ListenAddress> {
  const text = address ?? (insecure ? INSECURE_DEFAULT : TLS_DEFAULT);
  const colon = text.lastIndexOf(':');
  if (colon === -1) return { ok: false, message: `"${text}" has no port; ${FORMS}` };
  const hostPart = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (!PORT.test(portText) || port > 65535) {
    return { ok: false, message: `port "${portText}" is not a number between 0 and 65535` };
  }
  if (hostPart === '') return { ok: true, value: { host: undefined, port } };
  if (hostPart.startsWith('[') && hostPart.endsWith(']')) {
    const host = hostPart.slice(1, -1);
    if (isIP(host) !== 6) return { ok: false, message: `"${host}" is not an IPv6 address` };
    return { ok: true, value: { host, port } };
  }
  if (hostPart.includes(':')) {
    return {
      ok: false,
      message: `"${text}" is ambiguous; put an IPv6 address in brackets: [${hostPart}]:${portText}`,
    };
  }
  if (isIP(hostPart) === 0 && !HOST_NAME.test(hostPart)) {
    return { ok: false, message: `"${hostPart}" is not a host name or IP address; ${FORMS}` };
  }
  return { ok: true, value: { host: hostPart, port } };
}

/**
 * The address to listen on; the default is `:8443`, or `:8080` with `insecure_server`. Config loading
 * already reported a bad address, so one reaching here is refused with ERR_CONFIG_INVALID.
 */
export function parseListenAddress(address: string | undefined, insecure: boolean): ListenAddress {
  const result = readListenAddress(address, insecure);
  if (!result.ok) throw new GatehouseError('ERR_CONFIG_INVALID', `address: ${result.message}`);
  return result.value;
}

/** `host:port` for people, with IPv6 hosts in brackets and `:port` for every interface. */
export function formatListenAddress({ host, port }: ListenAddress): string {
  if (host === undefined) return `:${port}`;
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
