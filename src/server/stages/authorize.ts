import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';
import { answerUnauthenticated } from '../sign-in.js';

/**
 * Applies the route's access rule to the user authenticate found (or to nobody): allowed requests go on,
 * a rule that needs a user and has none starts a sign-in, and a user the rule does not let in gets 403.
 */
export function authorize(ctx: RequestContext): StageResult | Promise<StageResult> {
  const route = ctx.route;
  if (!route) throw new TypeError('authorize runs after matchRoute');
  // Pomerium's cors_allow_preflight: a preflight carries no credentials and is authorized as it is.
  if (route.isPublic || ctx.preflight === 'forwarded') return 'next';
  const record = ctx.session?.record;
  const decision = route.access(record && { userId: record.userId, email: record.email });
  if (decision === 'allow') return 'next';
  const identity = ctx.runtime.identity;
  if (decision === 'sign-in' && identity) {
    return answerUnauthenticated(ctx, identity, 'Sign in to use this service.');
  }
  throw new GatehouseError('ERR_ACCESS_DENIED', 'You do not have access to this service.');
}
