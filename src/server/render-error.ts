import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { GatehouseError } from '../shared/errors.js';
import { prefersHtml } from './negotiate.js';
import type { ResponseHeaders } from './response-headers.js';

/** What clients read for errors whose own message must stay inside the process (5xx). */
const PUBLIC_MESSAGES: Readonly<Record<number, string>> = {
  500: 'Gatehouse could not handle this request.',
  502: 'The upstream service is unavailable.',
  503: 'The service is temporarily unavailable.',
  504: 'The upstream service did not answer in time.',
};

/** 5xx answers that can say more than their status without revealing anything internal. */
const PUBLIC_MESSAGES_BY_CODE: Partial<Readonly<Record<GatehouseError['code'], string>>> = {
  ERR_STORE_UNAVAILABLE:
    'Sessions are temporarily unavailable: the session store does not answer. Try again in a moment.',
  ERR_IDP_UNAVAILABLE:
    'Sign-in is temporarily unavailable: the identity provider does not answer. Try again in a moment.',
  ERR_TOO_MANY_SIGN_INS: 'Too many sign-ins are in progress. Try again in a minute.',
  ERR_DYNAMIC_UPSTREAM_UNRESOLVED: 'The upstream host the request names could not be resolved.',
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  412: 'Precondition failed',
  413: 'Request too large',
  431: 'Request headers too large',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly message: string;
  readonly request_id: string;
  /** On a 401: where to start signing in (DESIGN 4.3). */
  readonly login_url?: string;
}

/** The client-facing description of an error: never a stack, an upstream's words or a 5xx's internals. */
export function describeError(error: GatehouseError, requestId: string): ErrorBody {
  return {
    error: error.code.replace(/^ERR_/, '').toLowerCase(),
    code: error.code,
    message: error.expose
      ? error.message
      : (PUBLIC_MESSAGES_BY_CODE[error.code] ?? PUBLIC_MESSAGES[error.status] ?? 'The request failed.'),
    request_id: requestId,
    ...(error.loginUrl === undefined ? {} : { login_url: error.loginUrl }),
  };
}

/**
 * The one renderer for Gatehouse's own error responses: HTML for browsers navigating, JSON for everything
 * else, with the caller's response headers (security defaults, request id, later CORS) applied.
 */
export function renderError(
  requestHeaders: IncomingHttpHeaders,
  res: ServerResponse,
  error: GatehouseError,
  requestId: string,
  decorate: (status: number, headers: ResponseHeaders) => void,
): void {
  if (res.headersSent) {
    // Part of another answer is already on the wire; ending it cleanly would pass a truncated body off
    // as complete, so the connection is cut instead.
    res.destroy();
    return;
  }
  const body = describeError(error, requestId);
  const html = prefersHtml(requestHeaders);
  const payload = html ? renderHtml(error.status, body) : JSON.stringify(body);
  const headers: ResponseHeaders = {
    ...error.headers,
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
  };
  if (html) headers['content-security-policy'] = "default-src 'none'; style-src 'unsafe-inline'";
  decorate(error.status, headers);
  res.writeHead(error.status, headers);
  res.end(payload);
}

function renderHtml(status: number, body: ErrorBody): string {
  const title = `${status} ${TITLES[status] ?? 'Error'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body.message)}</p>
${body.login_url === undefined ? '' : `<p><a href="${escapeHtml(body.login_url)}">Sign in</a></p>\n`}<p><small>Request id <code>${escapeHtml(body.request_id)}</code> · ${escapeHtml(body.code)}</small></p></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
