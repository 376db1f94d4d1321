import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectionListedNames, isHopByHop, listsOnlyConnectionOptions } from './hop-by-hop.js';

interface HopByHopFixture {
  hopByHop: string[];
  endToEnd: string[];
  connectionLists: { header: string | string[]; names: string[] }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/hop-by-hop.json', import.meta.url), 'utf8'),
) as HopByHopFixture;

describe('isHopByHop', () => {
  it.each(fixture.hopByHop)('treats %s as hop-by-hop', (name) => {
    expect(isHopByHop(name)).toBe(true);
  });

  it.each(fixture.endToEnd)('treats %s as end-to-end', (name) => {
    expect(isHopByHop(name)).toBe(false);
  });
});

describe('connectionListedNames', () => {
  it.each(fixture.connectionLists)('lists the names in Connection: $header', ({ header, names }) => {
    expect([...connectionListedNames(header)].sort()).toEqual([...names].sort());
  });

  it('lists nothing when there is no Connection header', () => {
    expect(connectionListedNames(undefined).size).toBe(0);
  });
});

describe('listsOnlyConnectionOptions', () => {
  it.each(['keep-alive', 'Keep-Alive', 'close', 'CLOSE'])('recognizes the plain option %s', (value) => {
    expect(listsOnlyConnectionOptions(value)).toBe(true);
  });

  it.each(['keep-alive, x-secret', 'upgrade', 'x-a', ''])('sends %j through full parsing', (value) => {
    expect(listsOnlyConnectionOptions(value)).toBe(false);
  });
});
