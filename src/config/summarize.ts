/** What `gatehouse check-config` prints for a valid file: where it listens, how, and each route. */
import { formatListenAddress, parseListenAddress } from './address.js';
import type { GatehouseConfig, RouteConfig } from './schema.js';
import { needsSignIn } from './validate-identity.js';

function describePathMatch(route: RouteConfig): string {
  if (route.prefix !== undefined) return `${route.prefix} (prefix)`;
  if (route.path !== undefined) return `${route.path} (path)`;
  if (route.regex !== undefined) return `${route.regex} (regex)`;
  return '(any path)';
}

function describeFlags(route: RouteConfig): string {
  const flags = [
    route.allow_public_unauthenticated_access && 'public',
    route.allow_any_authenticated_user && 'anyone signed in',
    route.allowed_users.length > 0 && `users ${route.allowed_users.join(', ')}`,
    route.allowed_domains.length > 0 && `domains ${route.allowed_domains.join(', ')}`,
    route.auth_mode !== 'auto' && `auth_mode ${route.auth_mode}`,
    route.allow_websockets && 'websockets',
    route.preserve_host_header && 'preserve host',
    route.host_rewrite !== undefined && `host ${route.host_rewrite}`,
    route.tls_skip_verify && 'upstream TLS not verified',
    route.tls_custom_ca !== undefined && 'custom CA',
  ].filter((flag) => typeof flag === 'string');
  return flags.length === 0 ? '' : ` [${flags.join(', ')}]`;
}

/** Where the route forwards: its `to` URLs, or what a `dynamic_upstream` lets requests name. */
function describeUpstreams(route: RouteConfig): string {
  const dynamic = route.dynamic_upstream;
  if (dynamic === undefined) return (route.to ?? []).map((to) => to.url).join(', ');
  const privateAddresses = dynamic.allow_private_addresses ? ', private addresses allowed' : '';
  return (
    `${dynamic.scheme}://<${dynamic.host_header}>:<${dynamic.port_header}> ` +
    `(hosts ${dynamic.allowed_hosts.join(', ')}; ports ${dynamic.allowed_ports.join(', ')}${privateAddresses})`
  );
}

function describeRoute(route: RouteConfig, index: number): string {
  const name = route.name === undefined ? '' : ` (${route.name})`;
  const upstreams = describeUpstreams(route);
  return `routes[${index}]${name} ${route.from.url} ${describePathMatch(route)} → ${upstreams}${describeFlags(route)}`;
}

export function summarizeConfig(config: GatehouseConfig): string {
  const address = formatListenAddress(parseListenAddress(config.address, config.insecure_server));
  const transport = config.insecure_server
    ? 'plain HTTP (insecure_server: TLS ends in front of Gatehouse)'
    : 'TLS';
  const routes = config.routes.length === 0 ? ['no routes'] : config.routes.map(describeRoute);
  return [`listening on ${address} with ${transport}`, ...describeSignIn(config), ...routes].join('\n');
}

/** One line on sign-in when some route needs it: the IdP, where sessions live, the cookie's reach. */
function describeSignIn(config: GatehouseConfig): string[] {
  if (!needsSignIn(config)) return [];
  const issuer = config.idp_provider_url ?? config.idp_provider;
  const cookie = config.cookie_domain === undefined ? 'host-only' : `Domain=${config.cookie_domain}`;
  return [
    `sign-in with ${issuer}; sessions in ${config.databroker_storage_type}; cookie ${config.cookie_name} (${cookie})`,
  ];
}
