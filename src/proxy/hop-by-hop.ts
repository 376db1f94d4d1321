/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection, so a proxy removes them — and
 * every field the `Connection` header names — before forwarding a message in either direction.
 */

export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  // Not in RFC 9110, but sent by old clients and as dangerous to forward as `connection`.
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** RFC 9112 §9.3 and §9.6: the connection options themselves, hop-by-hop already. */
const CONNECTION_OPTIONS: ReadonlySet<string> = new Set(['keep-alive', 'close']);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_HEADERS.has(name.toLowerCase());
}

/**
 * Whether a `Connection` header names nothing beyond hop-by-hop fields: true for the two values nearly
 * every message carries, so the hot path skips parsing them.
 */
export function listsOnlyConnectionOptions(connectionHeader: string | readonly string[]): boolean {
  return (
    typeof connectionHeader === 'string' &&
    connectionHeader.length <= 10 &&
    CONNECTION_OPTIONS.has(connectionHeader.toLowerCase())
  );
}

/** The lower-case field names a `Connection` header lists (RFC 9110 §7.6.1: a comma-separated list). */
export function connectionListedNames(connectionHeader: string | readonly string[] | undefined): Set<string> {
  const names = new Set<string>();
  if (connectionHeader === undefined) return names;
  const values = typeof connectionHeader === 'string' ? [connectionHeader] : connectionHeader;
  for (const value of values) {
    for (const item of value.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '') names.add(name);
    }
  }
  return names;
}
