import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { formatListenAddress, parseListenAddress, readListenAddress } from './address.js';

describe('parseListenAddress', () => {
  it('defaults to :8443 with TLS and :8080 when insecure', () => {
    expect(parseListenAddress(undefined, false)).toEqual({ host: undefined, port: 8443 });
    expect(parseListenAddress(undefined, true)).toEqual({ host: undefined, port: 8080 });
  });

  it.each([
    [':443', undefined, 443],
    ['127.0.0.1:8443', '127.0.0.1', 8443],
    ['localhost:80', 'localhost', 80],
    ['gatehouse.internal:9000', 'gatehouse.internal', 9000],
    ['[::1]:8443', '::1', 8443],
    ['[::]:8080', '::', 8080],
    [':0', undefined, 0],
    [':65535', undefined, 65535],
  ])('reads %s', (address, host, port) => {
    expect(parseListenAddress(address, false)).toEqual({ host, port });
  });

  it.each([
    ['8443', 'has no port'],
    [':65536', 'between 0 and 65535'],
    [':-1', 'between 0 and 65535'],
    [':http', 'between 0 and 65535'],
    ['host:', 'between 0 and 65535'],
    ['::1:8443', 'put an IPv6 address in brackets'],
    ['[not-ipv6]:80', 'is not an IPv6 address'],
    ['bad_host:80', 'is not a host name or IP address'],
  ])('refuses %j', (address, message) => {
    const result = readListenAddress(address, false);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it('throws ERR_CONFIG_INVALID for an address that config loading would have reported', () => {
    expect(() => parseListenAddress(':99999', false)).toThrow(GatehouseError);
    try {
      parseListenAddress(':99999', false);
    } catch (error) {
      expect((error as GatehouseError).code).toBe('ERR_CONFIG_INVALID');
    }
  });
});

describe('formatListenAddress', () => {
  it('brackets IPv6 hosts and writes :port for every interface', () => {
    expect(formatListenAddress({ host: '::1', port: 443 })).toBe('[::1]:443');
    expect(formatListenAddress({ host: undefined, port: 8080 })).toBe(':8080');
    expect(formatListenAddress({ host: '127.0.0.1', port: 0 })).toBe('127.0.0.1:0');
  });
});
