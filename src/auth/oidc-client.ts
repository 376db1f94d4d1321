/**
 * Gatehouse's relying-party side of OpenID Connect, shaped to what the login, refresh and sign-out code
 * needs. The only module that imports openid-client; everything it throws is translated here into
 * GatehouseErrors with the original kept as `cause` (an IdP's `error_description` never reaches a client).
 *
 * Discovery (OpenID Connect Discovery 1.0 §4) runs lazily, once, and is cached: an IdP that is down when
 * Gatehouse starts must not stop it from starting. Until discovery succeeds, every call fails fast with
 * ERR_IDP_UNAVAILABLE and a new attempt is made only after an exponentially growing pause, so a dead IdP
 * is not hammered by every sign-in attempt. Concurrent callers share one attempt.
 *
 * Every check openid-client makes stays on: the ID token's signature, `iss`, `aud`, `exp`, `iat` and
 * `nonce` (OpenID Connect Core §3.1.3.7), `state` and the RFC 9207 `iss` response parameter, and the
 * UserInfo `sub` against the ID token's (Core §5.3.2).
 */
import {
  AuthorizationResponseError,
  ClientError,
  ClientSecretBasic,
  ClientSecretPost,
  ResponseBodyError,
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  buildEndSessionUrl,
  customFetch,
  discovery,
  fetchUserInfo,
  refreshTokenGrant,
  tokenRevocation,
  type ClientAuth,
  type CustomFetch,
  type Configuration,
  type TokenEndpointResponse,
  type TokenEndpointResponseHelpers,
} from 'openid-client';
import type { Clock } from '../shared/clock.js';
import { GatehouseError } from '../shared/errors.js';
import type { IdpTokens, JsonValue, SignedInUser } from './session-record.js';

/** `fetch(url, init)` as openid-client calls it. */
export type IdpFetch = CustomFetch;

export interface OidcClientOptions {
  /** The issuer identifier; it must equal the discovered `issuer` exactly (`localhost` ≠ `127.0.0.1`). */
  readonly issuerUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `idp_scopes`; must include `openid`. */
  readonly scopes: readonly string[];
  /** The callback URL used when a call names none (`authenticate_service_url` + `/oauth2/callback`). */
  readonly redirectUri?: string;
  /** Talk to an `http:` IdP. Only for tests and the loopback development IdP. */
  readonly allowInsecureHttp: boolean;
  readonly clock: Clock;
  /** Pause after the first failed discovery; doubles after each further failure. Default 1 s. */
  readonly discoveryRetryMs?: number;
  /** Longest pause between discovery attempts. Default 30 s. */
  readonly maxDiscoveryRetryMs?: number;
  /** Seconds before a request to the IdP is abandoned. Default 10. */
  readonly requestTimeoutSeconds?: number;
  /** Replaces the global fetch for every request to the IdP; for tests of the IdP's failure modes. */
  readonly fetch?: IdpFetch;
}

export interface AuthorizationRequest {
  readonly state: string;
  readonly nonce: string;
  /** BASE64URL(SHA256(code_verifier)), RFC 7636 §4.2. */
  readonly codeChallenge: string;
  readonly redirectUri?: string;
}

export interface CodeRedemption {
  /**
   * The callback request's URL. Only its query is read: the `redirect_uri` sent to the token endpoint is
   * `redirectUri` (or the configured one), never something derived from the request's Host header.
   */
  readonly callbackUrl: URL;
  readonly expectedState: string;
  readonly expectedNonce: string;
  readonly codeVerifier: string;
  readonly redirectUri?: string;
}

/** Tokens after a refresh; `refreshToken` is the rotated one, or the one used when the IdP kept it. */
export type RefreshedTokens = IdpTokens & { readonly refreshToken: string };

export interface EndSessionRequest {
  readonly idTokenHint?: string;
  readonly postLogoutRedirectUri?: string;
}

export interface OidcClient {
  readonly issuer: string;
  /** Runs discovery now (or after the pause that follows a failure); for start-up and readiness. */
  discover(): Promise<void>;
  /** The IdP's authorization endpoint URL for a code flow request with PKCE S256. */
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /** Checks the callback, redeems the code and reads UserInfo. Call only after the login state is checked. */
  redeemCode(redemption: CodeRedemption): Promise<SignedInUser>;
  /** ERR_IDP_GRANT_INVALID when the IdP refuses the refresh token: end the session. */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /** Revokes a token (RFC 7009); false when the IdP offers no revocation endpoint. */
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean>;
  /** The RP-initiated logout URL, or undefined when the IdP has no `end_session_endpoint`. */
  endSessionUrl(request: EndSessionRequest): Promise<URL | undefined>;
}

const DEFAULT_DISCOVERY_RETRY_MS = 1_000;
const DEFAULT_MAX_DISCOVERY_RETRY_MS = 30_000;
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

/** Checks the options (a bad issuer is a configuration error) and returns a client; no I/O happens yet. */
export function createOidcClient(options: OidcClientOptions): OidcClient {
  const issuer = parseIssuer(options.issuerUrl, options.allowInsecureHttp);
  if (!options.scopes.includes('openid')) {
    throw new GatehouseError('ERR_CONFIG_INVALID', 'idp_scopes must include openid');
  }
  const configuration = discoverOnDemand(issuer, options);
  const redirectUriOf = (redirectUri: string | undefined): string => {
    const uri = redirectUri ?? options.redirectUri;
    if (uri === undefined) throw new TypeError('no redirect URI given and none configured');
    return uri;
  };

  return {
    issuer: options.issuerUrl,
    discover: async () => {
      await configuration();
    },

    authorizationUrl: async (request) => {
      const config = await configuration();
      const parameters: Record<string, string> = {
        response_type: 'code',
        redirect_uri: redirectUriOf(request.redirectUri),
        scope: options.scopes.join(' '),
        state: request.state,
        nonce: request.nonce,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
      };
      // OpenID Connect Core §11: a request for offline_access MUST carry prompt=consent, and IdPs such
      // as oidc-provider and Google ignore the scope (no refresh token) without it.
      if (options.scopes.includes('offline_access')) parameters['prompt'] = 'consent';
      return buildAuthorizationUrl(config, parameters);
    },

    redeemCode: async (redemption) => {
      const config = await configuration();
      const currentUrl = new URL(redirectUriOf(redemption.redirectUri));
      currentUrl.search = redemption.callbackUrl.search;
      const response = await translatingFailures('login', () =>
        authorizationCodeGrant(config, currentUrl, {
          expectedState: redemption.expectedState,
          expectedNonce: redemption.expectedNonce,
          pkceCodeVerifier: redemption.codeVerifier,
          idTokenExpected: true,
        }),
      );
      const idTokenClaims = response.claims();
      if (idTokenClaims === undefined) {
        throw new TypeError('openid-client accepted a response without ID token');
      }
      const userInfo =
        config.serverMetadata().userinfo_endpoint === undefined
          ? {}
          : await translatingFailures('login', () =>
              fetchUserInfo(config, response.access_token, idTokenClaims.sub),
            );
      return signedInUser(mergeClaims(idTokenClaims, userInfo), tokensOf(response, options.clock));
    },

    refresh: async (refreshToken) => {
      const config = await configuration();
      const response = await translatingFailures('refresh', () => refreshTokenGrant(config, refreshToken));
      // RFC 6749 §6: the IdP may issue a new refresh token; when it does not, the old one stays valid.
      return { ...tokensOf(response, options.clock), refreshToken: response.refresh_token ?? refreshToken };
    },

    revoke: async (token, hint) => {
      const config = await configuration();
      if (config.serverMetadata().revocation_endpoint === undefined) return false;
      await translatingFailures('revocation', () =>
        tokenRevocation(config, token, { token_type_hint: hint }),
      );
      return true;
    },

    endSessionUrl: async (request) => {
      const config = await configuration();
      if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
      const parameters: Record<string, string> = {};
      if (request.idTokenHint !== undefined) parameters['id_token_hint'] = request.idTokenHint;
      if (request.postLogoutRedirectUri !== undefined) {
        parameters['post_logout_redirect_uri'] = request.postLogoutRedirectUri;
      }
      return buildEndSessionUrl(config, parameters);
    },
  };
}

/** OpenID Connect Discovery 1.0 §4 and Core §2: the issuer is an https URL without query or fragment. */
function parseIssuer(issuerUrl: string, allowInsecureHttp: boolean): URL {
  const invalid = (reason: string) =>
    new GatehouseError('ERR_CONFIG_INVALID', `idp_provider_url ${JSON.stringify(issuerUrl)} ${reason}`);
  if (!URL.canParse(issuerUrl)) throw invalid('is not a URL');
  const url = new URL(issuerUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('must be an https URL');
  if (url.protocol === 'http:' && !allowInsecureHttp) throw invalid('must use https');
  if (url.search !== '' || url.hash !== '') throw invalid('must have no query or fragment');
  if (url.username !== '' || url.password !== '') throw invalid('must not contain credentials');
  return url;
}

/** The discovered configuration, fetched on first use and cached; failures back off exponentially. */
function discoverOnDemand(issuer: URL, options: OidcClientOptions): () => Promise<Configuration> {
  const firstPause = options.discoveryRetryMs ?? DEFAULT_DISCOVERY_RETRY_MS;
  const longestPause = options.maxDiscoveryRetryMs ?? DEFAULT_MAX_DISCOVERY_RETRY_MS;
  const timeout = options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  let discovered: Configuration | undefined;
  let attempt: Promise<Configuration> | undefined;
  let failures = 0;
  let nextAttemptAt = 0;
  let lastFailure: unknown;

  const attemptDiscovery = async (): Promise<Configuration> => {
    try {
      const config = await discovery(
        issuer,
        options.clientId,
        { client_secret: options.clientSecret },
        clientSecretAuth(options.clientSecret),
        {
          timeout,
          ...(options.allowInsecureHttp ? { execute: [allowInsecureRequests] } : {}),
          ...(options.fetch === undefined ? {} : { [customFetch]: options.fetch }),
        },
      );
      discovered = config;
      failures = 0;
      return config;
    } catch (error) {
      failures += 1;
      lastFailure = error;
      nextAttemptAt = options.clock.monotonic() + Math.min(longestPause, firstPause * 2 ** (failures - 1));
      throw unavailable(error, nextAttemptAt - options.clock.monotonic());
    } finally {
      attempt = undefined;
    }
  };

  return () => {
    if (discovered !== undefined) return Promise.resolve(discovered);
    if (attempt !== undefined) return attempt;
    const waitMs = nextAttemptAt - options.clock.monotonic();
    if (waitMs > 0) return Promise.reject(unavailable(lastFailure, waitMs));
    attempt = attemptDiscovery();
    return attempt;
  };
}

/**
 * client_secret_basic unless the IdP lists only client_secret_post. OpenID Connect Discovery §3: an IdP
 * that does not say supports client_secret_basic, which RFC 6749 §2.3.1 requires every server to accept.
 */
function clientSecretAuth(clientSecret: string): ClientAuth {
  const basic = ClientSecretBasic(clientSecret);
  const post = ClientSecretPost(clientSecret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    const usePost = !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    (usePost ? post : basic)(as, client, body, headers);
  };
}

type JsonObject = { readonly [key: string]: JsonValue };

/** ID token and UserInfo responses are parsed JSON objects, so every value in them is a JSON value. */
function asJsonObject(value: object): JsonObject {
  return value as JsonObject;
}

/** The ID token's protocol claims describe the token itself; UserInfo must not replace them. */
const ID_TOKEN_PROTOCOL_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'at_hash',
  'c_hash',
  'sid',
  'jti',
]);

/** UserInfo is the fresher source for profile claims (Core §5.3); the ID token's `sub` was checked equal. */
function mergeClaims(idTokenClaims: object, userInfo: object): JsonObject {
  const merged: Record<string, JsonValue> = { ...asJsonObject(idTokenClaims) };
  for (const [name, value] of Object.entries(asJsonObject(userInfo))) {
    if (!ID_TOKEN_PROTOCOL_CLAIMS.has(name)) merged[name] = value;
  }
  return merged;
}

function signedInUser(claims: JsonObject, tokens: IdpTokens): SignedInUser {
  const { sub, email, name, groups } = claims;
  if (typeof sub !== 'string' || sub === '')
    throw new TypeError('openid-client accepted an ID token without sub');
  return {
    userId: sub,
    ...(typeof email === 'string' ? { email } : {}),
    ...(typeof name === 'string' ? { name } : {}),
    groups: groupsOf(groups),
    claims,
    tokens,
  };
}

/** `groups` as IdPs send it: an array of names (Okta, Keycloak, Azure), occasionally a single string. */
function groupsOf(claim: JsonValue | undefined): string[] {
  if (typeof claim === 'string') return [claim];
  if (!Array.isArray(claim)) return [];
  return claim.filter((group): group is string => typeof group === 'string');
}

/**
 * The tokens of a token-endpoint response. The access token's issue time is when the response arrived:
 * `expires_in` counts from then (RFC 6749 §5.1), and with both ends known the session service can tell a
 * 5-minute token from a 1-hour one and refresh each in time.
 */
function tokensOf(response: TokenEndpointResponse & TokenEndpointResponseHelpers, clock: Clock): IdpTokens {
  const idTokenExpiry = response.claims()?.exp;
  const receivedAt = clock.now();
  return {
    ...(response.id_token === undefined ? {} : { idToken: response.id_token }),
    ...(idTokenExpiry === undefined ? {} : { idTokenExpiresAt: idTokenExpiry * 1000 }),
    accessToken: response.access_token,
    accessTokenIssuedAt: receivedAt,
    ...(response.expires_in === undefined
      ? {}
      : { accessTokenExpiresAt: receivedAt + response.expires_in * 1000 }),
    ...(response.refresh_token === undefined ? {} : { refreshToken: response.refresh_token }),
  };
}

type IdpOperation = 'login' | 'refresh' | 'revocation';

function unavailable(cause: unknown, retryInMs?: number): GatehouseError {
  return new GatehouseError('ERR_IDP_UNAVAILABLE', 'the identity provider is unavailable', {
    cause,
    ...(retryInMs === undefined
      ? {}
      : { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))) } }),
  });
}

/**
 * The Fetch standard rejects with a TypeError on a network error (connection refused, reset, DNS), and
 * Node's fetch puts the socket error in `cause`; the TypeErrors openid-client throws for bad arguments
 * carry a `code` instead and are programming mistakes.
 */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && !('code' in error) && error.cause !== undefined;
}

async function translatingFailures<T>(operation: IdpOperation, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translateIdpError(error, operation);
  }
}

/** openid-client's codes for an IdP that timed out or answered with something that is not OAuth. */
const IDP_TROUBLE_CODES = new Set([
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_RESPONSE_IS_NOT_JSON',
]);

/** RFC 6749 §4.1.2.1: the IdP's own trouble, reported through the authorization response. */
const IDP_TROUBLE_ERRORS = new Set(['server_error', 'temporarily_unavailable']);

function translateIdpError(error: unknown, operation: IdpOperation): Error {
  if (isNetworkError(error)) return unavailable(error);
  if (error instanceof TypeError) return error;
  if (error instanceof ClientError && error.code !== undefined && IDP_TROUBLE_CODES.has(error.code)) {
    return unavailable(error);
  }
  if (error instanceof ResponseBodyError && (error.status >= 500 || IDP_TROUBLE_ERRORS.has(error.error))) {
    return unavailable(error);
  }
  if (error instanceof AuthorizationResponseError) {
    if (IDP_TROUBLE_ERRORS.has(error.error)) return unavailable(error);
    // OpenID Connect Core §3.1.2.6: the user cancelled, or the IdP would not let them in.
    if (error.error === 'access_denied') {
      return new GatehouseError(
        'ERR_LOGIN_DENIED',
        'sign-in was cancelled or refused at the identity provider',
        {
          cause: error,
        },
      );
    }
  }
  if (operation === 'refresh' && error instanceof ResponseBodyError && error.error === 'invalid_grant') {
    // RFC 6749 §5.2: the refresh token is expired, revoked or was used twice; only a new sign-in helps.
    return new GatehouseError(
      'ERR_IDP_GRANT_INVALID',
      'the identity provider ended this session; sign in again',
      {
        cause: error,
      },
    );
  }
  if (operation === 'login') {
    return new GatehouseError('ERR_LOGIN_FAILED', 'sign-in failed; please start again', { cause: error });
  }
  return new GatehouseError('ERR_IDP_REJECTED', `the identity provider refused the ${operation} request`, {
    cause: error,
  });
}
