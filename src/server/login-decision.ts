/**
 * What an unauthenticated request gets (DESIGN 4.3): a redirect to sign in only for a top-level browser
 * navigation; everything else a 401 it can read, so a script or an API client is never sent through an
 * IdP's HTML login pages it cannot follow.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isGatehouseAuthorization } from '../auth/credentials.js';
import type { AuthMode } from '../config/schema.js';
import { prefersHtml } from './negotiate.js';

export type UnauthenticatedAnswer = 'redirect' | 'unauthorized';

/**
 * A request that carries a Gatehouse header token is an API client whatever its mode: its token failed,
 * and a login page would not give it a new one.
 */
function carriesTokenHeader(headers: IncomingHttpHeaders): boolean {
  if (headers['x-pomerium-authorization'] !== undefined) return true;
  const authorization = headers.authorization;
  return authorization !== undefined && isGatehouseAuthorization(authorization);
}

/**
 * `Sec-Fetch-Mode` is a forbidden request header (Fetch standard §2.2.2: any name starting with `sec-`), so
 * only the browser sets it, and `navigate` is a navigation even with an `Origin` — which browsers also send
 * on a form POST navigation (Fetch §3.1, `Origin` header), where a 401 would leave the user on a raw JSON
 * page. Without Fetch metadata (plain http, where browsers send no `Sec-Fetch-*`) a request with `Origin`
 * cannot be told apart from a script's cross-origin or POST fetch, so it gets the 401 DESIGN 4.3 asks for.
 */
function isTopLevelNavigation(headers: IncomingHttpHeaders): boolean {
  if (headers['sec-fetch-mode'] === undefined && headers.origin !== undefined) return false;
  return prefersHtml(headers);
}

export function answerForUnauthenticated(
  headers: IncomingHttpHeaders,
  route: { readonly authMode: AuthMode },
): UnauthenticatedAnswer {
  if (carriesTokenHeader(headers)) return 'unauthorized';
  switch (route.authMode) {
    case 'api':
      return 'unauthorized';
    case 'redirect':
      return 'redirect';
    case 'auto':
      return isTopLevelNavigation(headers) ? 'redirect' : 'unauthorized';
  }
}
