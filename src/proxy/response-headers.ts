/**
 * The upstream's response headers as the client receives them: without hop-by-hop fields or the fields
 * its `Connection` header names (RFC 9110 §7.6.1). Node frames the body for the client connection itself.
 */
import { HOP_BY_HOP_HEADERS, connectionListedNames, listsOnlyConnectionOptions } from './hop-by-hop.js';

export type ResponseHeaders = Record<string, string | string[]>;

/** `upstream` has lower-case names, as undici parses them. */
export function toClientResponseHeaders(
  upstream: Readonly<Record<string, string | string[] | undefined>>,
): ResponseHeaders {
  // A null prototype: an upstream header named `__proto__` stays a plain key.
  const headers = Object.create(null) as ResponseHeaders;
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name)) headers[name] = value;
  }
  const connection = upstream.connection;
  if (connection !== undefined && !listsOnlyConnectionOptions(connection)) {
    for (const listed of connectionListedNames(connection)) delete headers[listed];
  }
  return headers;
}
