/**
 * Keys a config may contain that the schema does not: Pomerium settings Gatehouse will never implement
 * (an error saying what to do instead), settings of Gatehouse's design that a later release implements
 * (an error saying so), and anything else (a warning; the key is ignored). When a feature lands, its
 * keys move into the schema and their rows leave the table below.
 */

export type KeyScope = 'server' | 'route';

export interface UnknownKeyVerdict {
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

interface KeyRule {
  /** An exact key, or a prefix when it ends in `*`. */
  readonly key: string;
  readonly scopes: readonly KeyScope[];
  /** What to do instead, for keys Gatehouse does not implement. */
  readonly insteadOf?: string;
  /** The feature a later release brings, for keys Gatehouse will implement. */
  readonly comingWith?: string;
}

const SERVER: readonly KeyScope[] = ['server'];
const ROUTE: readonly KeyScope[] = ['route'];
const BOTH: readonly KeyScope[] = ['server', 'route'];

const ONE_PROCESS = 'Gatehouse runs as one service; remove it';
const OWN_CERTIFICATES =
  'Gatehouse does not obtain certificates; get them with cert-manager or certbot and set ' +
  'certificate_file and certificate_key_file';

const rules: readonly KeyRule[] = [
  // Pomerium settings Gatehouse does not implement.
  { key: 'autocert', scopes: SERVER, insteadOf: OWN_CERTIFICATES },
  { key: 'autocert_*', scopes: SERVER, insteadOf: OWN_CERTIFICATES },
  { key: 'certificates', scopes: SERVER, insteadOf: 'use certificate_file and certificate_key_file' },
  { key: 'services', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'databroker_service_url', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'databroker_service_urls', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'authorize_service_url', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'authorize_service_urls', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'authenticate_internal_service_url', scopes: SERVER, insteadOf: ONE_PROCESS },
  { key: 'grpc_*', scopes: SERVER, insteadOf: 'Gatehouse has no gRPC services; remove it' },
  {
    key: 'http_redirect_address',
    scopes: SERVER,
    insteadOf: 'redirect plain HTTP to HTTPS at your load balancer, or remove it',
  },
  { key: 'dns_lookup_family', scopes: SERVER, insteadOf: 'Gatehouse uses the system resolver; remove it' },
  { key: 'tracing_*', scopes: SERVER, insteadOf: 'remove it' },
  { key: 'envoy_*', scopes: SERVER, insteadOf: 'Gatehouse does not use Envoy; remove it' },
  { key: 'codec_type', scopes: SERVER, insteadOf: 'Gatehouse chooses the HTTP protocol itself; remove it' },
  {
    key: 'tls_client_cert*',
    scopes: ROUTE,
    insteadOf: 'client certificates to upstreams are not supported; remove it',
  },
  {
    key: 'tls_downstream_*',
    scopes: ROUTE,
    insteadOf: 'client certificate authentication is not supported; remove it',
  },
  {
    key: 'tls_upstream_server_name',
    scopes: ROUTE,
    insteadOf: 'the TLS server name is the host of `to`; put that name in the to URL',
  },
  {
    key: 'tls_server_name',
    scopes: ROUTE,
    insteadOf: 'the TLS server name is the host of `to`; put that name in the to URL',
  },
  {
    key: 'tls_upstream_allow_renegotiation',
    scopes: ROUTE,
    insteadOf: 'TLS renegotiation is not supported; remove it',
  },
  { key: 'host_rewrite_header', scopes: ROUTE, insteadOf: 'use host_rewrite or preserve_host_header' },
  { key: 'host_path_regex_rewrite_*', scopes: ROUTE, insteadOf: 'use host_rewrite' },
  {
    key: 'load_balancing_policy',
    scopes: ROUTE,
    insteadOf: 'a list of `to` URLs is used round robin; remove it',
  },
  { key: 'health_checks', scopes: ROUTE, insteadOf: 'upstream health checks are not implemented; remove it' },
  { key: 'kubernetes_service_account_token*', scopes: ROUTE, insteadOf: 'remove it' },
  {
    key: 'allow_spdy',
    scopes: ROUTE,
    insteadOf: 'SPDY is not supported; use allow_websockets for WebSockets',
  },
  { key: 'enable_google_cloud_serverless_authentication', scopes: ROUTE, insteadOf: 'remove it' },
  {
    key: 'databroker_storage_*',
    scopes: SERVER,
    insteadOf:
      'Redis TLS is set in databroker_storage_connection_string: use rediss:// (CA and client certificates ' +
      'are not configurable yet)',
  },
  {
    key: 'idp_*',
    scopes: SERVER,
    insteadOf: "Gatehouse reads users and groups from the IdP's ID token and UserInfo at sign-in; remove it",
  },

  // Gatehouse settings that later releases implement.
  { key: 'signing_key', scopes: SERVER, comingWith: 'identity headers' },
  { key: 'pass_identity_headers', scopes: BOTH, comingWith: 'identity headers' },
  { key: 'jwt_claims_headers', scopes: BOTH, comingWith: 'identity headers' },
  { key: 'metrics_address', scopes: SERVER, comingWith: 'metrics' },
  { key: 'allowed_idp_claims', scopes: ROUTE, comingWith: 'access policies' },
  { key: 'policy', scopes: ROUTE, comingWith: 'access policies' },
  { key: 'policy_file', scopes: ROUTE, comingWith: 'access policies' },
];

function matches(rule: KeyRule, key: string): boolean {
  return rule.key.endsWith('*') ? key.startsWith(rule.key.slice(0, -1)) : key === rule.key;
}

/** What to tell the user about `key`, found where the schema has no such key. */
export function classifyUnknownKey(key: string, scope: KeyScope): UnknownKeyVerdict {
  const rule = rules.find((candidate) => candidate.scopes.includes(scope) && matches(candidate, key));
  if (rule?.insteadOf !== undefined) {
    return {
      severity: 'error',
      message: `is a Pomerium setting Gatehouse does not implement: ${rule.insteadOf}`,
    };
  }
  if (rule?.comingWith !== undefined) {
    return {
      severity: 'error',
      message: `is not available in this release yet (it comes with ${rule.comingWith}); remove it`,
    };
  }
  return { severity: 'warning', message: 'unknown key, ignored' };
}
