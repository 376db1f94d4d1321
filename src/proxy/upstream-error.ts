/**
 * Translation at the upstream boundary: whatever undici, Node's sockets or TLS throw becomes a
 * GatehouseError with a stable code, the original kept as `cause` for the log.
 */
import { GatehouseError, isGatehouseError, type ErrorCode } from '../shared/errors.js';

const CODE_BY_ERROR_CODE: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  // Nobody answered at that address.
  ['ECONNREFUSED', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['ENOTFOUND', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['EAI_AGAIN', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['EHOSTUNREACH', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['EHOSTDOWN', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['ENETUNREACH', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['ENETDOWN', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['EADDRNOTAVAIL', 'ERR_UPSTREAM_UNAVAILABLE'],
  // The pool was closed by a config reload while this request waited for it.
  ['UND_ERR_CLOSED', 'ERR_UPSTREAM_UNAVAILABLE'],
  ['UND_ERR_DESTROYED', 'ERR_UPSTREAM_UNAVAILABLE'],
  // The connection broke, or the upstream sent something that is not HTTP.
  ['ECONNRESET', 'ERR_UPSTREAM_RESET'],
  ['ECONNABORTED', 'ERR_UPSTREAM_RESET'],
  ['EPIPE', 'ERR_UPSTREAM_RESET'],
  ['UND_ERR_SOCKET', 'ERR_UPSTREAM_RESET'],
  ['UND_ERR_ABORTED', 'ERR_UPSTREAM_RESET'],
  ['UND_ERR_HEADERS_OVERFLOW', 'ERR_UPSTREAM_RESET'],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_UPSTREAM_RESET'],
  ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'ERR_UPSTREAM_RESET'],
  // Nothing within the route's `timeout` (connecting counts) or `idle_timeout`.
  ['ETIMEDOUT', 'ERR_UPSTREAM_TIMEOUT'],
  ['UND_ERR_CONNECT_TIMEOUT', 'ERR_UPSTREAM_TIMEOUT'],
  ['UND_ERR_HEADERS_TIMEOUT', 'ERR_UPSTREAM_TIMEOUT'],
  ['UND_ERR_BODY_TIMEOUT', 'ERR_UPSTREAM_TIMEOUT'],
  // Certificate checks (Node's X509_V_ERR names) and handshake failures.
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_UPSTREAM_TLS'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_UPSTREAM_TLS'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_UPSTREAM_TLS'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'ERR_UPSTREAM_TLS'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_UPSTREAM_TLS'],
  ['CERT_HAS_EXPIRED', 'ERR_UPSTREAM_TLS'],
  ['CERT_NOT_YET_VALID', 'ERR_UPSTREAM_TLS'],
  ['CERT_REVOKED', 'ERR_UPSTREAM_TLS'],
  ['CERT_UNTRUSTED', 'ERR_UPSTREAM_TLS'],
  ['CERT_REJECTED', 'ERR_UPSTREAM_TLS'],
  ['CERT_SIGNATURE_FAILURE', 'ERR_UPSTREAM_TLS'],
  ['INVALID_CA', 'ERR_UPSTREAM_TLS'],
  ['HOSTNAME_MISMATCH', 'ERR_UPSTREAM_TLS'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_UPSTREAM_TLS'],
  ['ERR_TLS_HANDSHAKE_TIMEOUT', 'ERR_UPSTREAM_TLS'],
  ['EPROTO', 'ERR_UPSTREAM_TLS'],
]);

const MESSAGES: Readonly<Partial<Record<ErrorCode, string>>> = {
  ERR_UPSTREAM_UNAVAILABLE: 'upstream unavailable',
  ERR_UPSTREAM_RESET: 'upstream connection reset',
  ERR_UPSTREAM_TIMEOUT: 'upstream timed out',
  ERR_UPSTREAM_TLS: 'upstream TLS failure',
};

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Looks through `cause` chains and AggregateErrors (happy-eyeballs connects fail with one per address). */
function classify(error: unknown, depth: number): ErrorCode | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const code = errorCodeOf(error);
  if (code !== undefined) {
    const known = CODE_BY_ERROR_CODE.get(code);
    if (known !== undefined) return known;
    // OpenSSL failures: ERR_SSL_WRONG_VERSION_NUMBER, ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, …
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'ERR_UPSTREAM_TLS';
    // llhttp parse errors: the upstream's answer was not valid HTTP.
    if (code.startsWith('HPE_')) return 'ERR_UPSTREAM_RESET';
  }
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = classify(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return classify((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * Known network, timeout and TLS failures get their upstream code; anything else (an undici argument
 * error, a bug in a caller's callback) is ERR_INTERNAL, because it says nothing about the upstream.
 */
export function toUpstreamError(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  const code = classify(error, 0) ?? 'ERR_INTERNAL';
  return new GatehouseError(code, MESSAGES[code] ?? 'internal error', { cause: error });
}
