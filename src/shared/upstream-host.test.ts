import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatUpstreamHost, isUpstreamHostPattern, parseUpstreamHost } from './upstream-host.js';

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/dynamic-upstream/hosts.json', import.meta.url), 'utf8'),
) as { names: { host: string; name: string }[]; invalid: string[] };

describe('parseUpstreamHost', () => {
  it.each(fixture.names)('reads $host as the name $name', ({ host, name }) => {
    expect(parseUpstreamHost(host)).toEqual({ kind: 'name', name });
  });

  it.each(fixture.invalid)('refuses %j', (host) => {
    expect(parseUpstreamHost(host)).toBeUndefined();
  });

  it('refuses names longer than DNS allows (253 characters)', () => {
    const label = 'a'.repeat(63);
    const name = [label, label, label, 'a'.repeat(61)].join('.');
    expect(name).toHaveLength(253);
    expect(parseUpstreamHost(name)).toEqual({ kind: 'name', name });
    expect(parseUpstreamHost(`${name}a`)).toBeUndefined();
  });

  it('gives IPv6 literals their canonical form, without brackets', () => {
    expect(parseUpstreamHost('[2001:DB8:0:0:0:0:0:1]')).toEqual({
      kind: 'ip',
      address: '2001:db8::1',
      family: 6,
    });
  });
});

describe('isUpstreamHostPattern', () => {
  it.each([
    'keystone.example.com',
    '*.example.com',
    '*.cloud.example.com',
    '203.0.113.5',
    '2001:db8::1',
    'localhost',
  ])('accepts %j', (pattern) => {
    expect(isUpstreamHostPattern(pattern)).toBe(true);
  });

  it.each([
    '*',
    '*.',
    '*.*.example.com',
    'a.*.example.com',
    '*example.com',
    '*.1.2.3',
    '*.example.com.',
    'host:443',
    'https://example.com',
    '',
  ])('refuses %j', (pattern) => {
    expect(isUpstreamHostPattern(pattern)).toBe(false);
  });
});

describe('formatUpstreamHost', () => {
  it('brackets IPv6 for a URL authority and leaves names and IPv4 alone', () => {
    expect(formatUpstreamHost({ kind: 'ip', address: '::1', family: 6 })).toBe('[::1]');
    expect(formatUpstreamHost({ kind: 'ip', address: '8.8.8.8', family: 4 })).toBe('8.8.8.8');
    expect(formatUpstreamHost({ kind: 'name', name: 'keystone.example.com' })).toBe('keystone.example.com');
  });
});
