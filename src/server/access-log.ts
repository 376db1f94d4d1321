import { CLIENT_CLOSED_REQUEST } from '../proxy/forward.js';
import type { GatehouseError } from '../shared/errors.js';
import { writeInfoFields, type Logger } from '../shared/logger.js';
import type { RequestContext } from './context.js';

/** A JSON string literal, or nothing when the value is absent. */
function field(name: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : `,"${name}":${JSON.stringify(value)}`;
}

/**
 * One line per request, written when the exchange ends (finished or aborted). Only named fields are
 * logged: the path without its query string (queries carry codes and tokens), never headers or cookies.
 * Serialized from a template because it is written for every request (see bench/README.md).
 */
export function logAccess(logger: Logger, ctx: RequestContext, durationMs: number, bytes: number): void {
  // Serializing costs more than the check: skip it when the line would be dropped (log_level warn/error).
  if (!logger.isLevelEnabled('info')) return;
  const { req, res } = ctx;
  // Nothing sent means the client left first: nginx's 499, not the 200 Node's default would claim.
  const status = res.headersSent ? res.statusCode : ctx.upgrade ? 101 : CLIENT_CLOSED_REQUEST;
  const aborted = !res.writableFinished && !ctx.upgrade;
  writeInfoFields(
    logger,
    'request',
    `"request_id":${JSON.stringify(ctx.id)},"method":${JSON.stringify(req.method ?? '')}` +
      field('host', ctx.hostname) +
      field('path', ctx.path) +
      field('route', ctx.route?.route.name) +
      field('user', userOf(ctx)) +
      `,"status":${status},"duration_ms":${Math.round(durationMs * 100) / 100},"bytes":${bytes}` +
      field('upstream', ctx.upstream?.origin) +
      field('client_ip', ctx.clientIp || req.socket.remoteAddress) +
      (aborted ? ',"aborted":true' : ''),
  );
}

/** Who the request was made as: the email, or the IdP's user id when there is none. */
function userOf(ctx: RequestContext): string | undefined {
  const record = ctx.session?.record;
  return record?.email ?? record?.userId;
}

/**
 * Why a request failed, for operators: the internal message and code, with the cause's message. A denial
 * is logged at info, naming the user and route, because the client is told nothing more than 403.
 */
export function logFailure(logger: Logger, ctx: RequestContext, error: GatehouseError): void {
  const fields = {
    request_id: ctx.id,
    code: error.code,
    status: error.status,
    route: ctx.route?.route.name,
    user: userOf(ctx),
    upstream: ctx.upstream?.origin,
    cause: error.cause instanceof Error ? error.cause.message : undefined,
  };
  if (error.status >= 500) logger.error(fields, error.message);
  else if (error.code === 'ERR_ACCESS_DENIED')
    logger.info(fields, 'access denied by the route’s access rule');
  else logger.debug(fields, error.message);
}
