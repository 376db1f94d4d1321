import { CLIENT_CLOSED_REQUEST } from '../proxy/forward.js';
import type { GatehouseError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RequestContext } from './context.js';

/**
 * One line per request, written when the exchange ends (finished or aborted). Only named fields are
 * logged: the path without its query string (queries carry codes and tokens), never headers or cookies.
 */
export function logAccess(logger: Logger, ctx: RequestContext, durationMs: number, bytes: number): void {
  const { req, res } = ctx;
  logger.info(
    {
      request_id: ctx.id,
      method: req.method,
      host: ctx.hostname || undefined,
      path: ctx.path || undefined,
      route: ctx.route?.route.name,
      // Nothing sent means the client left first: nginx's 499, not the 200 Node's default would claim.
      status: res.headersSent ? res.statusCode : ctx.upgrade ? 101 : CLIENT_CLOSED_REQUEST,
      duration_ms: Math.round(durationMs * 100) / 100,
      bytes,
      upstream: ctx.upstream?.origin,
      client_ip: ctx.clientIp || req.socket.remoteAddress,
      ...(res.writableFinished || ctx.upgrade ? {} : { aborted: true }),
    },
    'request',
  );
}

/** Why a request failed, for operators: the internal message and code, with the cause's message. */
export function logFailure(logger: Logger, ctx: RequestContext, error: GatehouseError): void {
  const fields = {
    request_id: ctx.id,
    code: error.code,
    status: error.status,
    route: ctx.route?.route.name,
    upstream: ctx.upstream?.origin,
    cause: error.cause instanceof Error ? error.cause.message : undefined,
  };
  if (error.status >= 500) logger.error(fields, error.message);
  else logger.debug(fields, error.message);
}
