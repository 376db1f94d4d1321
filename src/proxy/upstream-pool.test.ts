import { describe, expect, it } from 'vitest';
import { parseUpstreamUrl, type UpstreamUrl } from '../config/urls.js';
import { createUpstreamPool } from './upstream-pool.js';

function upstream(url: string): UpstreamUrl {
  const parsed = parseUpstreamUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

const options = { tlsSkipVerify: false, tlsCustomCa: undefined, timeoutMs: 1_000, idleTimeoutMs: 1_000 };

describe('createUpstreamPool', () => {
  it('hands out its targets round robin', async () => {
    const a = upstream('http://a.internal:8080');
    const b = upstream('http://b.internal:8080');
    const c = upstream('https://c.internal');
    const pool = createUpstreamPool({ ...options, targets: [a, b, c] });
    expect([pool.next(), pool.next(), pool.next(), pool.next(), pool.next()]).toEqual([a, b, c, a, b]);
    await pool.close();
  });

  it('refuses an empty target list as a programming error', () => {
    expect(() => createUpstreamPool({ ...options, targets: [] })).toThrow(TypeError);
  });

  it('closes when nothing is in flight', async () => {
    const pool = createUpstreamPool({ ...options, targets: [upstream('http://a.internal')] });
    await expect(pool.close()).resolves.toBeUndefined();
  });
});
