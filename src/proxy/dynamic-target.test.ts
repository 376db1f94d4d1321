import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { DynamicUpstreamConfig } from '../config/schema.js';
import { isGatehouseError } from '../shared/errors.js';
import { compileTargetReader, type DynamicTarget } from './dynamic-target.js';

const CONFIG: DynamicUpstreamConfig = {
  host_header: 'exo-proxy-orig-host',
  port_header: 'exo-proxy-orig-port',
  scheme: 'https',
  allowed_hosts: ['*.cloud.example.com', 'keystone.example.org', '203.0.113.5', '2001:DB8::7'],
  allowed_ports: [443, 5000],
  allow_private_addresses: false,
};

const read = compileTargetReader(CONFIG);

function headers(host: string | null, port: string | null = '443'): IncomingHttpHeaders {
  return {
    ...(host === null ? {} : { 'exo-proxy-orig-host': host }),
    ...(port === null ? {} : { 'exo-proxy-orig-port': port }),
  };
}

function outcome(
  incoming: IncomingHttpHeaders,
): DynamicTarget | { code: string; status: number; message: string } {
  try {
    return read(incoming);
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return { code: error.code, status: error.status, message: error.message };
  }
}

describe('compileTargetReader: the headers', () => {
  it('reads the host and port a request names', () => {
    expect(read(headers('keystone.cloud.example.com', '5000'))).toEqual({
      host: { kind: 'name', name: 'keystone.cloud.example.com' },
      port: 5000,
    });
  });

  it('answers 400 naming the header when the host header is missing or empty', () => {
    for (const incoming of [headers(null), headers('')]) {
      expect(outcome(incoming)).toMatchObject({
        code: 'ERR_DYNAMIC_UPSTREAM_HEADER_INVALID',
        status: 400,
        message: expect.stringContaining('exo-proxy-orig-host header is missing') as unknown,
      });
    }
  });

  it('answers 400 for a host header that is no host, such as host:port or two hosts', () => {
    for (const host of ['keystone.cloud.example.com:5000', 'a.cloud.example.com, b.cloud.example.com']) {
      expect(outcome(headers(host))).toMatchObject({
        code: 'ERR_DYNAMIC_UPSTREAM_HEADER_INVALID',
        status: 400,
        message: expect.stringContaining('not a host name or IP address') as unknown,
      });
    }
  });

  it('answers 400 naming the header when the port header is missing', () => {
    expect(outcome(headers('keystone.cloud.example.com', null))).toMatchObject({
      code: 'ERR_DYNAMIC_UPSTREAM_HEADER_INVALID',
      message: expect.stringContaining('exo-proxy-orig-port header is missing') as unknown,
    });
  });

  it.each(['0', '65536', '99999', '-1', '+443', '443.0', '4e2', '0x1bb', 'https', '443, 5000', '1234567'])(
    'answers 400 for the port %j',
    (port) => {
      expect(outcome(headers('keystone.cloud.example.com', port))).toMatchObject({
        code: 'ERR_DYNAMIC_UPSTREAM_HEADER_INVALID',
        status: 400,
        message: expect.stringContaining('not a port number') as unknown,
      });
    },
  );

  it('reads header names case-insensitively from the config', () => {
    const custom = compileTargetReader({
      ...CONFIG,
      host_header: 'X-Upstream-Host',
      port_header: 'X-Upstream-Port',
    });
    expect(custom({ 'x-upstream-host': 'keystone.example.org', 'x-upstream-port': '443' })).toMatchObject({
      host: { kind: 'name', name: 'keystone.example.org' },
    });
    expect(() => custom(headers('keystone.example.org'))).toThrow(/x-upstream-host header is missing/);
  });
});

describe('compileTargetReader: the allowlists', () => {
  it.each([
    ['keystone.cloud.example.com'],
    ['a.b.cloud.example.com'],
    ['KEYSTONE.Cloud.Example.com.'],
    ['keystone.example.org'],
    ['203.0.113.5'],
    ['[2001:db8::7]'],
    ['2001:db8:0:0:0:0:0:7'],
  ])('lets %s through', (host) => {
    expect(outcome(headers(host))).toHaveProperty('port', 443);
  });

  it.each([
    ['the apex of a wildcard', 'cloud.example.com'],
    ['a look-alike', 'evilcloud.example.com'],
    ['a name that merely contains an allowed one', 'keystone.cloud.example.com.evil.net'],
    ['a subdomain of an exact entry', 'a.keystone.example.org'],
    ['another IP', '203.0.113.6'],
    ['an IP that merely looks like a name in a wildcard', '1.2.3.4'],
    ['localhost', 'localhost'],
  ])('answers 403 for %s (%s)', (_kind, host) => {
    expect(outcome(headers(host))).toMatchObject({
      code: 'ERR_DYNAMIC_UPSTREAM_REFUSED',
      status: 403,
      message: expect.stringContaining('not an allowed upstream host') as unknown,
    });
  });

  it('answers 403 for a port not in allowed_ports, before looking at the host', () => {
    expect(outcome(headers('evil.example.net', '22'))).toMatchObject({
      code: 'ERR_DYNAMIC_UPSTREAM_REFUSED',
      status: 403,
      message: 'Port 22 is not an allowed upstream port on this route.',
    });
  });

  it('compares IP entries by address, so another spelling of an allowed address is allowed', () => {
    const numeric = compileTargetReader({ ...CONFIG, allowed_hosts: ['8.8.8.8'] });
    expect(numeric(headers('0x8.0x8.0x8.0x8'))).toMatchObject({ host: { kind: 'ip', address: '8.8.8.8' } });
    expect(numeric(headers('134744072'))).toMatchObject({ host: { kind: 'ip', address: '8.8.8.8' } });
  });
});
