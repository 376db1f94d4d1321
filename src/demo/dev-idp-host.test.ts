import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, requireLoopbackHost, urlHost } from './dev-idp-host.js';

describe('requireLoopbackHost', () => {
  it.each(['127.0.0.1', 'localhost', '::1'])('accepts %s', (host) => {
    expect(requireLoopbackHost(host)).toBe(host);
  });

  it('refuses every other host with a message naming the loopback choices', () => {
    expect(() => requireLoopbackHost('0.0.0.0')).toThrow(/loopback only \(127\.0\.0\.1, localhost, ::1\)/);
  });
});

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('counts %s as loopback', (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', 'localhost'])('does not count %s', (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe('urlHost', () => {
  it('brackets the IPv6 loopback and leaves names and IPv4 alone', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('localhost')).toBe('localhost');
  });
});
