import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import { readRequestSession } from '../request-session.js';
import { externalOrigin, loginUrl } from '../sign-in.js';
import type { Endpoint } from './endpoint-app.js';
import { respondJson } from './respond.js';
import { identityOf } from './sign-in.js';

/**
 * `/.pomerium/user`: who is signed in, as JSON, so a page can show it; 401 JSON with `login_url` when
 * nobody is (whatever the request kind: a page asks this from a script).
 */
async function user(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const found = await readRequestSession(ctx, identity);
  if (found.kind !== 'session') {
    throw new GatehouseError(
      'ERR_UNAUTHENTICATED',
      found.kind === 'none' ? 'Nobody is signed in.' : `The session is not valid: ${found.reason}.`,
      {
        headers: { 'www-authenticate': 'Pomerium' },
        loginUrl: loginUrl(ctx, identity, {
          returnUrl: `${externalOrigin(ctx)}/`,
          routeHost: ctx.hostname,
          mode: 'cookie',
        }),
      },
    );
  }
  const { record } = found.session;
  respondJson(ctx, 200, {
    ...record.claims,
    sub: record.userId,
    user: record.userId,
    email: record.email ?? null,
    name: record.name ?? null,
    groups: record.groups,
    session_expires_at: new Date(record.expiresAt).toISOString(),
  });
}

export const userEndpoints: readonly Endpoint[] = [{ method: 'GET', path: '/.pomerium/user', handle: user }];
