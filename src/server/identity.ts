/**
 * The sign-in side of one config: the OIDC client, the session service, login transactions and hand-off
 * codes, all over the process's one store. Built with the rest of the runtime on every (re)load, so a
 * changed IdP, secret or cookie setting applies to the next request; the store itself lives as long as
 * the process.
 */
import { HandoffCodes } from '../auth/handoff-code.js';
import { LOGIN_TRANSACTION_TTL_MS, LoginTransactions } from '../auth/login-transaction.js';
import { createOidcClient, type OidcClient } from '../auth/oidc-client.js';
import { compileProgrammaticRedirectCheck } from '../auth/redirect-allowlist.js';
import { decodeCheckedSecret, deriveAuthKeys, type AuthKeys } from '../auth/secrets.js';
import { createSessionService, type SessionService } from '../auth/session-service.js';
import { SignInBudget } from '../auth/sign-in-budget.js';
import { sessionCookieSettingsOf, type SessionCookieSettings } from '../config/cookie-settings.js';
import { resolveIdpIssuer } from '../config/idp-providers.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { Parsed } from '../config/urls.js';
import { issuerMayUsePlainHttp } from '../config/validate-identity.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { KvStore } from '../store/kv-store.js';
import { CALLBACK_PATH } from './sign-in.js';

/**
 * Sign-ins one process may begin per login-transaction lifetime (ten minutes): far above what people
 * signing in need (83 a second, sustained), far below what would exhaust memory (~25 MB of transactions).
 */
const SIGN_INS_PER_TRANSACTION_TTL = 50_000;

export interface Identity {
  readonly cookie: SessionCookieSettings;
  readonly keys: AuthKeys;
  readonly sessions: SessionService;
  readonly logins: LoginTransactions;
  /** Refuses new sign-ins once this process has begun too many that are still pending. */
  readonly signInBudget: SignInBudget;
  readonly handoffs: HandoffCodes;
  readonly oidc: OidcClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `authenticate_service_url`'s origin; undefined when each host is its own callback host. */
  readonly authenticateOrigin: string | undefined;
  readonly checkProgrammaticRedirect: (uri: string) => Parsed<URL>;
  readonly signoutRedirectUrl: string | undefined;
  close(): Promise<void>;
}

export interface IdentityDeps {
  readonly store: KvStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The config must have passed validation: every key sign-in needs is there and well formed. */
export async function buildIdentity(config: GatehouseConfig, deps: IdentityDeps): Promise<Identity> {
  const { store, clock, logger } = deps;
  const required = (value: string | undefined, key: string): string => {
    if (value === undefined) throw new TypeError(`unchecked config: ${key} is missing`);
    return value;
  };
  const issuer = resolveIdpIssuer(config.idp_provider, config.idp_provider_url);
  if (!issuer.ok) throw new TypeError(`unchecked config: ${issuer.message}`);
  const authenticateOrigin =
    config.authenticate_service_url === undefined
      ? undefined
      : new URL(config.authenticate_service_url).origin;
  const keys = deriveAuthKeys({
    sharedSecret: decodeCheckedSecret(required(config.shared_secret, 'shared_secret')),
    previousSharedSecrets: config.previous_shared_secrets.map(decodeCheckedSecret),
    cookieSecret: decodeCheckedSecret(required(config.cookie_secret, 'cookie_secret')),
  });
  const oidc = createOidcClient({
    issuerUrl: issuer.value,
    clientId: required(config.idp_client_id, 'idp_client_id'),
    clientSecret: required(config.idp_client_secret, 'idp_client_secret'),
    scopes: config.idp_scopes,
    ...(authenticateOrigin === undefined ? {} : { redirectUri: `${authenticateOrigin}${CALLBACK_PATH}` }),
    allowInsecureHttp: issuerMayUsePlainHttp(issuer.value),
    clock,
  });
  // Discovery runs now so the first sign-in does not wait for it; an IdP that is down is retried with
  // backoff on demand, and sign-ins answer 503 until it is back.
  oidc.discover().catch((error: unknown) => {
    logger.warn({ err: error, issuer: issuer.value }, 'IdP discovery failed; retrying when someone signs in');
  });
  const sessions = await createSessionService({
    store,
    keys,
    clock,
    sessionTtlMs: config.cookie_expire,
    refreshTokens: (refreshToken) => oidc.refresh(refreshToken),
    logger,
  });
  return {
    cookie: sessionCookieSettingsOf(config),
    keys,
    sessions,
    logins: new LoginTransactions({ store, keys, cookieName: config.cookie_name }),
    signInBudget: new SignInBudget(SIGN_INS_PER_TRANSACTION_TTL, LOGIN_TRANSACTION_TTL_MS, clock),
    handoffs: new HandoffCodes({ store, keys }),
    oidc,
    clock,
    logger,
    authenticateOrigin,
    checkProgrammaticRedirect: compileProgrammaticRedirectCheck(
      config.programmatic_redirect_domain_whitelist,
    ),
    signoutRedirectUrl: config.signout_redirect_url,
    close: () => sessions.close(),
  };
}
