import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyAddress, type AddressClass } from './address-class.js';
import { parseUpstreamHost } from './upstream-host.js';

interface AddressCase {
  readonly host: string;
  readonly address: string;
  readonly class: AddressClass;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/dynamic-upstream/addresses.json', import.meta.url), 'utf8'),
) as { cases: AddressCase[] };

describe('classifyAddress, on hosts as a request names them', () => {
  it.each(fixture.cases)('reads $host as $address, $class', ({ host, address, class: expected }) => {
    const parsed = parseUpstreamHost(host);
    expect(parsed).toMatchObject({ kind: 'ip', address });
    expect(classifyAddress(address)).toBe(expected);
  });

  it('covers every class the refusal names, and public ones on both families', () => {
    const classes = new Set(fixture.cases.map((entry) => entry.class));
    expect([...classes].sort()).toEqual(
      [
        'benchmarking',
        'broadcast',
        'documentation',
        'link-local',
        'loopback',
        'multicast',
        'private',
        'public',
        'reserved',
        'shared',
        'unspecified',
      ].sort(),
    );
    const publicOnes = fixture.cases.filter((entry) => entry.class === 'public');
    expect(publicOnes.some((entry) => entry.address.includes(':'))).toBe(true);
    expect(publicOnes.some((entry) => !entry.address.includes(':'))).toBe(true);
  });

  it('judges addresses the resolver returns (uncompressed IPv6 too) the same way', () => {
    expect(classifyAddress('0000:0000:0000:0000:0000:ffff:7f00:0001')).toBe('loopback');
    expect(classifyAddress('0:0:0:0:0:ffff:a9fe:a9fe')).toBe('link-local');
    expect(classifyAddress('2606:4700:4700:0:0:0:0:1111')).toBe('public');
  });

  it('throws a TypeError for text that is not an address: hosts are read before they are judged', () => {
    expect(() => classifyAddress('localhost')).toThrow(TypeError);
    expect(() => classifyAddress('127.1')).toThrow(TypeError);
    expect(() => classifyAddress('fe80::1%eth0')).toThrow(TypeError);
  });
});
