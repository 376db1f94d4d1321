/**
 * The session a request presents (DESIGN 3), read once the same way by the authenticate stage,
 * `/.pomerium/user` and sign-out: the first credential form present decides, and a present-but-bad one
 * is `invalid`, never a fall-through to another form.
 */
import { extractCredential, type CredentialSource } from '../auth/credentials.js';
import type { Session } from '../auth/session-service.js';
import { isGatehouseError } from '../shared/errors.js';
import type { RequestContext } from './context.js';
import type { Identity } from './identity.js';

export type RequestSession =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly source: CredentialSource; readonly reason: string }
  | { readonly kind: 'session'; readonly source: CredentialSource; readonly session: Session };

/** Rejects only when the answer cannot be known (the store is down: ERR_STORE_UNAVAILABLE, a 503). */
export async function readRequestSession(ctx: RequestContext, identity: Identity): Promise<RequestSession> {
  const credential = extractCredential(ctx.req.headers, identity.cookie.name);
  if (credential.kind !== 'token') return credential;
  try {
    return {
      kind: 'session',
      source: credential.source,
      session: await identity.sessions.authenticate(credential.token),
    };
  } catch (error) {
    if (
      isGatehouseError(error) &&
      (error.code === 'ERR_SESSION_INVALID' || error.code === 'ERR_SESSION_EXPIRED')
    ) {
      return { kind: 'invalid', source: credential.source, reason: error.message };
    }
    throw error;
  }
}
