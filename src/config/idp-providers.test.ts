import { describe, expect, it } from 'vitest';
import { knownIdpProviders, resolveIdpIssuer } from './idp-providers.js';

describe('resolveIdpIssuer', () => {
  it("uses Google's issuer when google is named without a URL", () => {
    expect(resolveIdpIssuer('google', undefined)).toEqual({ ok: true, value: 'https://accounts.google.com' });
  });

  it('prefers idp_provider_url over the well-known issuer', () => {
    expect(resolveIdpIssuer('gitlab', 'https://gitlab.internal.example')).toEqual({
      ok: true,
      value: 'https://gitlab.internal.example',
    });
  });

  it('takes the URL for generic oidc, and oidc when no provider is named', () => {
    expect(resolveIdpIssuer('oidc', 'https://idp.example.com')).toEqual({
      ok: true,
      value: 'https://idp.example.com',
    });
    expect(resolveIdpIssuer(undefined, 'https://idp.example.com')).toEqual({
      ok: true,
      value: 'https://idp.example.com',
    });
  });

  it('reads provider names case-insensitively', () => {
    expect(resolveIdpIssuer('Google', undefined)).toEqual({ ok: true, value: 'https://accounts.google.com' });
  });

  it.each(['azure', 'okta', 'auth0', 'keycloak', 'cognito', 'oidc'])(
    'says that %s needs idp_provider_url and what it looks like',
    (provider) => {
      const resolved = resolveIdpIssuer(provider, undefined);
      expect(resolved.ok ? '' : resolved.message).toContain('needs idp_provider_url');
    },
  );

  it('treats a blank idp_provider_url as absent', () => {
    expect(resolveIdpIssuer('okta', '  ').ok).toBe(false);
  });

  it('refuses providers that are not OpenID Connect, saying why', () => {
    const resolved = resolveIdpIssuer('github', 'https://github.com');
    expect(resolved.ok ? '' : resolved.message).toContain('not OpenID Connect');
  });

  it('refuses an unknown name and lists the known ones', () => {
    const resolved = resolveIdpIssuer('facebook', undefined);
    expect(resolved.ok ? '' : resolved.message).toContain('google');
  });

  it('lists only usable providers', () => {
    expect(knownIdpProviders).toContain('keycloak');
    expect(knownIdpProviders).not.toContain('github');
  });
});
