/**
 * What tests ask the development IdP afterwards: how often each endpoint was called. The identity tests
 * assert on these ("20 concurrent requests cause exactly one refresh_token grant").
 */
export interface DevIdpCounters {
  /** Token-endpoint requests by `grant_type` (RFC 6749 §4.1.3, §6), answered with tokens or not. */
  tokenRequests(grantType: string): number;
  /** The subset of those answered with an error, e.g. `invalid_grant` for a revoked refresh token. */
  failedTokenRequests(grantType: string): number;
  /** Requests to the revocation endpoint (RFC 7009). */
  revocationRequests(): number;
  /** Requests to the UserInfo endpoint (OpenID Connect Core §5.3). */
  userinfoRequests(): number;
  /** Requests to the end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2). */
  endSessionRequests(): number;
  /** Back to zero, for a test that counts only its own calls. */
  reset(): void;
}

export type CountedEndpoint = 'revocation' | 'userinfo' | 'end_session';

export class DevIdpCounter implements DevIdpCounters {
  private readonly tokens = new Map<string, number>();
  private readonly failedTokens = new Map<string, number>();
  private readonly endpoints = new Map<CountedEndpoint, number>();

  countTokenRequest(grantType: string, succeeded: boolean): void {
    increment(this.tokens, grantType);
    if (!succeeded) increment(this.failedTokens, grantType);
  }

  countEndpoint(endpoint: CountedEndpoint): void {
    increment(this.endpoints, endpoint);
  }

  tokenRequests(grantType: string): number {
    return this.tokens.get(grantType) ?? 0;
  }

  failedTokenRequests(grantType: string): number {
    return this.failedTokens.get(grantType) ?? 0;
  }

  revocationRequests(): number {
    return this.endpoints.get('revocation') ?? 0;
  }

  userinfoRequests(): number {
    return this.endpoints.get('userinfo') ?? 0;
  }

  endSessionRequests(): number {
    return this.endpoints.get('end_session') ?? 0;
  }

  reset(): void {
    this.tokens.clear();
    this.failedTokens.clear();
    this.endpoints.clear();
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
