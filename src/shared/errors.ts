/**
 * One error type for everything Gatehouse reports: a stable `code` callers and tests can rely on, the HTTP
 * `status` the renderer answers with, and `expose` — whether the message may be shown to the client.
 * Modelled on jose's typed codes and oidc-provider's `expose` flag: 5xx messages never leave the process.
 */
export const errorStatus = {
  ERR_BAD_REQUEST: 400,
  ERR_BAD_PATH: 400,
  ERR_BAD_HOST: 400,
  ERR_DYNAMIC_UPSTREAM_HEADER_INVALID: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_SESSION_INVALID: 401,
  ERR_SESSION_EXPIRED: 401,
  ERR_LOGIN_STATE_INVALID: 400,
  ERR_LOGIN_CSRF_INVALID: 400,
  ERR_LOGIN_FAILED: 400,
  ERR_LOGIN_DENIED: 403,
  ERR_LOGIN_REDIRECT_INVALID: 400,
  ERR_ACCESS_DENIED: 403,
  ERR_SIGN_OUT_CROSS_SITE: 403,
  ERR_HANDOFF_INVALID: 400,
  ERR_IDP_GRANT_INVALID: 400,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_FILE_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_WEBSOCKETS_NOT_ALLOWED: 403,
  ERR_DYNAMIC_UPSTREAM_REFUSED: 403,
  ERR_REQUEST_TIMEOUT: 408,
  ERR_PRECONDITION_FAILED: 412,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_INTERNAL: 500,
  ERR_RECORD_UNREADABLE: 500,
  ERR_UPSTREAM_UNAVAILABLE: 502,
  ERR_UPSTREAM_RESET: 502,
  ERR_UPSTREAM_TLS: 502,
  ERR_DYNAMIC_UPSTREAM_UNRESOLVED: 502,
  ERR_UPSTREAM_TIMEOUT: 504,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_IDP_UNAVAILABLE: 503,
  ERR_TOO_MANY_SIGN_INS: 503,
  ERR_IDP_REJECTED: 502,
  ERR_CONFIG_INVALID: 500,
  ERR_CONFIG_UNREADABLE: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface GatehouseErrorOptions {
  cause?: unknown;
  /** Overrides the default: 4xx messages are shown to clients, 5xx are not. */
  expose?: boolean;
  /** Response headers the answer needs (`Allow` on a 405, `Retry-After` on a 503). */
  headers?: Readonly<Record<string, string>>;
  /** For a 401: where the client can start signing in; rendered as `login_url`. */
  loginUrl?: string;
}

export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly loginUrl: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = errorStatus[code];
    this.expose = options.expose ?? this.status < 500;
    this.headers = options.headers ?? {};
    this.loginUrl = options.loginUrl;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}

/** Turns anything thrown into a GatehouseError, keeping the original as `cause`. */
export function toGatehouseError(value: unknown): GatehouseError {
  if (isGatehouseError(value)) return value;
  return new GatehouseError('ERR_INTERNAL', 'internal error', { cause: value });
}
