import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';
import { readRequestSession } from '../request-session.js';
import { answerUnauthenticated } from '../sign-in.js';

/**
 * Reads the session the request presents on a route that is not public. No credential passes on without
 * a user (the route's access rule decides whether that will do); a bad one is answered here, as
 * unauthenticated, and never falls through to another credential. Public routes read no session at all.
 */
export function authenticate(ctx: RequestContext): StageResult | Promise<StageResult> {
  const route = ctx.route;
  if (!route) throw new TypeError('authenticate runs after matchRoute');
  // Pomerium's cors_allow_preflight: a preflight carries no credentials and is authorized as it is.
  if (route.isPublic || ctx.preflight === 'forwarded') return 'next';
  const identity = ctx.runtime.identity;
  if (!identity) throw new GatehouseError('ERR_INTERNAL', 'a protected route without sign-in configured');
  return readRequestSession(ctx, identity).then((found) => {
    if (found.kind === 'invalid') {
      return answerUnauthenticated(
        ctx,
        identity,
        `The ${describeSource(found.source)} is not valid: ${found.reason}.`,
      );
    }
    if (found.kind === 'session') ctx.session = found.session;
    return 'next';
  });
}

function describeSource(source: string): string {
  return source === 'cookie' ? 'session cookie' : 'session token';
}
