import { describe, expect, it } from 'vitest';
import { compileIpRanges, isIpOrCidr } from './ip-range.js';

describe('isIpOrCidr', () => {
  it.each(['10.0.0.0/8', '10.1.2.3', '0.0.0.0/0', '192.168.1.1/32', 'fd00::/8', '::1', '::/0', '::1/128'])(
    'accepts %s',
    (text) => {
      expect(isIpOrCidr(text)).toBe(true);
    },
  );

  it.each([
    '',
    'localhost',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/ 8',
    '10.0.0.256',
    ' 10.0.0.1',
    '10.0.0.0/0x8',
  ])('refuses %j', (text) => {
    expect(isIpOrCidr(text)).toBe(false);
  });
});

describe('compileIpRanges', () => {
  const isTrusted = compileIpRanges(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);

  it('matches addresses inside an IPv4 range', () => {
    expect(isTrusted('10.200.3.4')).toBe(true);
    expect(isTrusted('11.0.0.1')).toBe(false);
  });

  it('treats a single IPv4 address as /32', () => {
    expect(isTrusted('192.168.1.7')).toBe(true);
    expect(isTrusted('192.168.1.8')).toBe(false);
  });

  it('matches IPv6 ranges and single IPv6 addresses as /128', () => {
    expect(isTrusted('fd12:3456::1')).toBe(true);
    expect(isTrusted('::1')).toBe(true);
    expect(isTrusted('::2')).toBe(false);
    expect(isTrusted('2001:db8::1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 ranges', () => {
    expect(isTrusted('::ffff:10.0.0.1')).toBe(true);
    expect(isTrusted('::ffff:192.168.1.7')).toBe(true);
    expect(isTrusted('::ffff:11.0.0.1')).toBe(false);
  });

  it('answers false for text that is not an IP address', () => {
    expect(isTrusted('')).toBe(false);
    expect(isTrusted('10.0.0.1, 11.0.0.1')).toBe(false);
    expect(isTrusted('localhost')).toBe(false);
  });

  it('trusts nobody with an empty list', () => {
    expect(compileIpRanges([])('10.0.0.1')).toBe(false);
  });

  it('throws a TypeError for an entry that was not validated', () => {
    expect(() => compileIpRanges(['10.0.0.0/40'])).toThrow(TypeError);
  });
});
