import { describe, expect, it } from 'vitest';
import { classifyUnknownKey } from './pomerium-keys.js';

describe('classifyUnknownKey', () => {
  it.each([
    ['autocert', 'server'],
    ['autocert_dir', 'server'],
    ['services', 'server'],
    ['databroker_service_urls', 'server'],
    ['authorize_service_url', 'server'],
    ['authenticate_internal_service_url', 'server'],
    ['grpc_address', 'server'],
    ['grpc_insecure', 'server'],
    ['http_redirect_address', 'server'],
    ['certificates', 'server'],
    ['dns_lookup_family', 'server'],
    ['tracing_provider', 'server'],
    ['envoy_admin_address', 'server'],
    ['codec_type', 'server'],
    ['tls_client_cert_file', 'route'],
    ['tls_downstream_client_ca', 'route'],
    ['tls_upstream_server_name', 'route'],
    ['tls_server_name', 'route'],
    ['host_rewrite_header', 'route'],
    ['host_path_regex_rewrite_pattern', 'route'],
    ['load_balancing_policy', 'route'],
    ['health_checks', 'route'],
    ['kubernetes_service_account_token_file', 'route'],
    ['allow_spdy', 'route'],
    ['enable_google_cloud_serverless_authentication', 'route'],
    ['tls_upstream_allow_renegotiation', 'route'],
  ] as const)('refuses the Pomerium key %s (%s) as not implemented', (key, scope) => {
    const verdict = classifyUnknownKey(key, scope);
    expect(verdict.severity).toBe('error');
    expect(verdict.message).toMatch(/^is a Pomerium setting Gatehouse does not implement: .+/);
  });

  it('says what to use instead', () => {
    expect(classifyUnknownKey('autocert', 'server').message).toContain(
      'certificate_file and certificate_key_file',
    );
    expect(classifyUnknownKey('services', 'server').message).toContain(
      'Gatehouse runs as one service; remove it',
    );
    expect(classifyUnknownKey('certificates', 'server').message).toContain(
      'use certificate_file and certificate_key_file',
    );
  });

  it.each([
    ['signing_key', 'server'],
    ['pass_identity_headers', 'server'],
    ['jwt_claims_headers', 'server'],
    ['metrics_address', 'server'],
    ['allowed_idp_claims', 'route'],
    ['policy', 'route'],
    ['policy_file', 'route'],
    ['pass_identity_headers', 'route'],
    ['jwt_claims_headers', 'route'],
  ] as const)('refuses %s (%s) as not available yet', (key, scope) => {
    const verdict = classifyUnknownKey(key, scope);
    expect(verdict.severity).toBe('error');
    expect(verdict.message).toMatch(/^is not available in this release yet \(it comes with .+\); remove it$/);
  });

  it('names the feature a key comes with', () => {
    expect(classifyUnknownKey('policy', 'route').message).toContain('(it comes with access policies)');
    expect(classifyUnknownKey('pass_identity_headers', 'route').message).toContain(
      '(it comes with identity headers)',
    );
  });

  it.each(['idp_service_account', 'idp_refresh_directory_timeout', 'idp_refresh_directory_interval'])(
    'refuses the IdP directory setting %s: groups come from the IdP at sign-in',
    (key) => {
      expect(classifyUnknownKey(key, 'server')).toEqual({
        severity: 'error',
        message:
          "is a Pomerium setting Gatehouse does not implement: Gatehouse reads users and groups from the IdP's ID token and UserInfo at sign-in; remove it",
      });
    },
  );

  it.each([
    'databroker_storage_tls_skip_verify',
    'databroker_storage_cert_file',
    'databroker_storage_ca_file',
  ])('refuses the Redis TLS setting %s rather than ignoring it: TLS comes from a rediss:// URL', (key) => {
    const verdict = classifyUnknownKey(key, 'server');
    expect(verdict.severity).toBe('error');
    expect(verdict.message).toContain('use rediss://');
  });

  it('warns about anything else, and about known keys in the wrong place', () => {
    const ignored = { severity: 'warning', message: 'unknown key, ignored' };
    expect(classifyUnknownKey('favourite_colour', 'server')).toEqual(ignored);
    expect(classifyUnknownKey('autocert', 'route')).toEqual(ignored);
    expect(classifyUnknownKey('allowed_users', 'server')).toEqual(ignored);
  });
});
