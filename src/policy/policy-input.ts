/**
 * The plain facts a policy decides from, gathered by the caller per request. Nothing here reads a socket or
 * a clock: the same facts always give the same decision.
 */

/** The signed-in user, as the session record holds them. */
export interface PolicyUser {
  /** The IdP's `sub`. */
  readonly id: string;
  readonly email?: string | undefined;
  readonly groups?: readonly string[] | undefined;
  /** Claims merged from the ID token and UserInfo; arbitrary JSON. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface PolicyInput {
  /** As sent; HTTP methods are case-sensitive (RFC 9110 §9.1). */
  readonly method: string;
  /** The request path without the query. */
  readonly path: string;
  /** The client's address, after `trusted_proxies` were applied. */
  readonly sourceIp: string;
  readonly isCorsPreflight: boolean;
  /** `undefined` when nobody is signed in. */
  readonly user: PolicyUser | undefined;
}

/**
 * `sign-in`: nobody is signed in and the answer depends on who they are — the proxy answers 401/302, not
 * 403 (DESIGN 4.3).
 */
export type PolicyVerdict = 'allow' | 'deny' | 'sign-in';

export interface PolicyDecision {
  readonly decision: PolicyVerdict;
  /** Pomerium's reason names (`email-ok`, `groups-unauthorized`, `user-unauthenticated`, …), for the log. */
  readonly reasons: readonly string[];
}
