import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig, type ConfigResult } from './parse.js';
import { summarizeConfig } from './summarize.js';

function parse(route: string): ConfigResult {
  return parseConfig({
    text: `insecure_server: true\nroutes:\n  - from: https://proxy.example.com\n    prefix: /proxy\n    allow_public_unauthenticated_access: true\n${route}`,
    fileName: 'gatehouse.yaml',
    env: {},
    readFile: () => {
      throw new Error('no files here');
    },
  });
}

function problemsOf(result: ConfigResult): string[] {
  return result.ok ? [] : result.problems.map(formatProblem);
}

const DYNAMIC = `    dynamic_upstream:\n      allowed_hosts: ["*.cloud.example.com"]\n`;

describe('dynamic_upstream in the config', () => {
  it('loads with the Exosphere defaults: its headers, https, port 443, public addresses only', () => {
    const result = parse(DYNAMIC);
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config.routes[0]?.to).toBeUndefined();
    expect(result.config.routes[0]?.dynamic_upstream).toEqual({
      host_header: 'exo-proxy-orig-host',
      port_header: 'exo-proxy-orig-port',
      scheme: 'https',
      allowed_hosts: ['*.cloud.example.com'],
      allowed_ports: [443],
      allow_private_addresses: false,
    });
    expect(summarizeConfig(result.config)).toContain(
      '→ https://<exo-proxy-orig-host>:<exo-proxy-orig-port> (hosts *.cloud.example.com; ports 443)',
    );
  });

  it('needs to or dynamic_upstream', () => {
    expect(problemsOf(parse(''))).toEqual([
      'routes[0].to: is required (or dynamic_upstream, for an upstream named per request)',
    ]);
  });

  it('refuses to next to dynamic_upstream', () => {
    expect(problemsOf(parse(`    to: https://keystone.example.com\n${DYNAMIC}`))).toEqual([
      'routes[0]: has both to and dynamic_upstream; a dynamic route takes its upstream from each request',
    ]);
  });

  it('refuses WebSockets on a dynamic route', () => {
    expect(problemsOf(parse(`${DYNAMIC}    allow_websockets: true\n`))).toEqual([
      'routes[0].allow_websockets: is not available with dynamic_upstream; WebSockets need a route with to',
    ]);
  });

  it('refuses one header for both host and port, whatever the case', () => {
    expect(problemsOf(parse(`${DYNAMIC}      host_header: X-Target\n      port_header: x-target\n`))).toEqual(
      [
        'routes[0].dynamic_upstream.port_header: must differ from host_header: one header names the host, the other the port',
      ],
    );
  });

  it('refuses host patterns that are not a name, a *. domain or an IP address, each by path', () => {
    const route = `    dynamic_upstream:\n      allowed_hosts: ["*", "a.*.example.com", "*.10.0.0", "keystone.example.com:5000", "https://x.example.com", "ok.example.com"]\n`;
    expect(problemsOf(parse(route))).toEqual(
      [0, 1, 2, 3, 4].map(
        (index) =>
          `routes[0].dynamic_upstream.allowed_hosts[${index}]: must be a host name, \`*.\` and a domain, or an IP address`,
      ),
    );
  });

  it('refuses an empty allowlist, ports outside 1-65535 and another scheme', () => {
    const route =
      `    dynamic_upstream:\n      allowed_hosts: []\n      allowed_ports: [0, 65536]\n` +
      `      scheme: ftp\n`;
    expect(problemsOf(parse(route))).toEqual([
      'routes[0].dynamic_upstream.scheme: must be one of https, http, not "ftp"',
      'routes[0].dynamic_upstream.allowed_hosts: needs at least one host',
      'routes[0].dynamic_upstream.allowed_ports[0]: must be at least 1',
      'routes[0].dynamic_upstream.allowed_ports[1]: must be at most 65535',
    ]);
  });

  it('takes scheme http, other ports and private addresses when asked', () => {
    const route =
      `    dynamic_upstream:\n      allowed_hosts: [localhost, 127.0.0.1]\n      allowed_ports: [5000, 8774]\n` +
      `      scheme: http\n      allow_private_addresses: true\n`;
    const result = parse(route);
    expect(problemsOf(result)).toEqual([]);
    expect(result.ok && result.config.routes[0]?.dynamic_upstream).toMatchObject({
      scheme: 'http',
      allowed_ports: [5000, 8774],
      allow_private_addresses: true,
    });
  });
});
