import { GatehouseError } from '../../shared/errors.js';
import { normalizeRequestTarget } from '../../routing/normalize-path.js';
import { parseHostHeader } from '../../routing/parse-host.js';
import { resolveClientIp } from '../../proxy/request-headers.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/i;

/**
 * Reads who is asking and for what: the client address (believing `X-Forwarded-For` only from trusted
 * proxies), the host, and the normalized path every later stage sees.
 */
export function acceptRequest(ctx: RequestContext): StageResult {
  const { req, runtime } = ctx;
  // RFC 9112 §3: HTTP/1.x only; Node's parser reads a request line without a version as HTTP/0.9.
  if (req.httpVersionMajor !== 1)
    throw new GatehouseError('ERR_BAD_REQUEST', 'The request is not valid HTTP/1.1.');
  ctx.peerIp = req.socket.remoteAddress ?? '';
  ctx.peerIsTrusted = runtime.isTrustedProxy(ctx.peerIp);
  const forwardedFor = req.headers['x-forwarded-for'];
  ctx.clientIp = ctx.peerIsTrusted
    ? resolveClientIp(
        ctx.peerIp,
        typeof forwardedFor === 'string' ? forwardedFor : undefined,
        runtime.isTrustedProxy,
      )
    : ctx.peerIp;

  let target = req.url ?? '';
  let authority = req.headers.host;
  // RFC 9112 §3.2.2: a proxy request in absolute-form names the host in the target, and the target wins.
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute) {
    authority = absolute[1];
    target = absolute[2] === '' ? '/' : (absolute[2] ?? '/');
  }

  const host = parseHostHeader(authority);
  if (!host) throw new GatehouseError('ERR_BAD_HOST', 'The request has a missing or malformed Host header.');
  ctx.hostname = host.hostname;
  ctx.port = host.port;

  const normalized = normalizeRequestTarget(target);
  if (!normalized) throw new GatehouseError('ERR_BAD_PATH', 'The request path is malformed.');
  ctx.path = normalized.path;
  ctx.query = normalized.query;
  return 'next';
}
