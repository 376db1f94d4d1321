/**
 * `idp_provider` names Pomerium knows, mapped onto generic OpenID Connect discovery. Gatehouse has no
 * provider-specific code: every name is an issuer URL to discover (OpenID Connect Discovery 1.0 §4), taken
 * from `idp_provider_url` or, where the provider has one issuer for every tenant, from this table.
 */
import type { Parsed } from './urls.js';

type ProviderEntry =
  /** The provider has one public issuer for every tenant. */
  | { readonly kind: 'issuer'; readonly issuer: string }
  /** Each tenant has its own issuer: `idp_provider_url` must name it. */
  | { readonly kind: 'needs-url'; readonly urlHint: string }
  | { readonly kind: 'unsupported'; readonly reason: string };

const PROVIDERS: Readonly<Record<string, ProviderEntry>> = {
  oidc: { kind: 'needs-url', urlHint: "the provider's issuer URL" },
  google: { kind: 'issuer', issuer: 'https://accounts.google.com' },
  gitlab: { kind: 'issuer', issuer: 'https://gitlab.com' },
  azure: { kind: 'needs-url', urlHint: 'https://login.microsoftonline.com/<tenant id>/v2.0' },
  okta: { kind: 'needs-url', urlHint: 'https://<your org>.okta.com or an authorization server under it' },
  auth0: { kind: 'needs-url', urlHint: 'https://<your tenant>.auth0.com/' },
  keycloak: { kind: 'needs-url', urlHint: 'https://<keycloak host>/realms/<realm>' },
  cognito: { kind: 'needs-url', urlHint: 'https://cognito-idp.<region>.amazonaws.com/<user pool id>' },
  onelogin: { kind: 'needs-url', urlHint: 'https://<your subdomain>.onelogin.com/oidc/2' },
  ping: { kind: 'needs-url', urlHint: "your PingOne or PingFederate environment's issuer URL" },
  github: {
    kind: 'unsupported',
    reason: 'GitHub sign-in is plain OAuth 2.0, not OpenID Connect (no ID token, no discovery)',
  },
  apple: {
    kind: 'unsupported',
    reason: 'Sign in with Apple needs a signed client-secret JWT and form_post responses',
  },
};

/** The names `idp_provider` accepts, for the configuration reference. */
export const knownIdpProviders: readonly string[] = Object.keys(PROVIDERS).filter(
  (name) => PROVIDERS[name]?.kind !== 'unsupported',
);

/**
 * The issuer to discover for `idp_provider` and `idp_provider_url`. An explicit URL always wins (a
 * self-hosted GitLab, a Google Workspace setup behind another issuer); without one, only providers with a
 * single public issuer work, and the message says what URL the others need.
 */
export function resolveIdpIssuer(
  provider: string | undefined,
  providerUrl: string | undefined,
): Parsed<string> {
  const name = (provider ?? 'oidc').trim().toLowerCase();
  const entry = PROVIDERS[name];
  if (entry === undefined) {
    return {
      ok: false,
      message: `idp_provider ${JSON.stringify(provider)} is not known; use one of ${knownIdpProviders.join(', ')} (any OpenID Connect provider works as "oidc" with idp_provider_url)`,
    };
  }
  if (entry.kind === 'unsupported') {
    return { ok: false, message: `idp_provider ${name} is not supported: ${entry.reason}` };
  }
  const url = providerUrl?.trim() ?? '';
  if (url !== '') return { ok: true, value: url };
  if (entry.kind === 'issuer') return { ok: true, value: entry.issuer };
  return { ok: false, message: `idp_provider ${name} needs idp_provider_url: ${entry.urlHint}` };
}
