import { describe, expect, it } from 'vitest';
import type { Run } from './report.js';
import { measurementOrder, renderFigures } from './report.js';

const runAt = (requestsPerSecond: number, cpuSeconds = 1): Run => ({
  result: {
    requests: requestsPerSecond * 10,
    requestsPerSecond,
    latencyMs: { p50: 1, p99: 3.5 },
    errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
  },
  cpuSeconds,
});

describe('measurementOrder', () => {
  it("puts Gatehouse's two routes back to back where proxyOrder puts Gatehouse, signed-in first every other round", () => {
    expect(measurementOrder(0)).toEqual(['bare', 'keepAlive', 'gatehouse', 'signedIn']);
    expect(measurementOrder(1)).toEqual(['keepAlive', 'signedIn', 'gatehouse', 'bare']);
    expect(measurementOrder(2)).toEqual(['gatehouse', 'signedIn', 'bare', 'keepAlive']);
  });

  it('gives the pair each of its positions once in each of its orders over six rounds', () => {
    const placements = [0, 1, 2, 3, 4, 5].map((round) => {
      const order = measurementOrder(round);
      const first = Math.min(order.indexOf('gatehouse'), order.indexOf('signedIn'));
      return `${first}:${order[first]}`;
    });
    expect(new Set(placements).size).toBe(6);
  });
});

describe('renderFigures with the signed-in route', () => {
  // Per round, signed-in over public: 12000/15000, 12000/12500, 13500/15000.
  const text = renderFigures({
    date: '2026-01-02',
    machine: '2 CPUs',
    setup: 'Pinned with `taskset`.',
    minimumRatioOverBare: 1.3,
    steal: [{ cpu: 1, share: 0 }],
    runs: {
      direct: [runAt(40000), runAt(40000), runAt(40000)],
      bare: [runAt(4000), runAt(4000), runAt(4000)],
      keepAlive: [runAt(15000), runAt(15000), runAt(15000)],
      // CPU per request: 0.8 s / 150,000 ≈ 5.33 µs, 0.75 s / 125,000 = 6 µs, 0.9 s / 150,000 = 6 µs.
      gatehouse: [runAt(15000, 0.8), runAt(12500, 0.75), runAt(15000, 0.9)],
      // 0.78 s / 120,000 = 6.5 µs, 0.84 s / 120,000 = 7 µs, 0.945 s / 135,000 = 7 µs.
      signedIn: [runAt(12000, 0.78), runAt(12000, 0.84), runAt(13500, 0.945)],
    },
  });

  it('adds its row after the public route, which it names as such', () => {
    // CPU use: the median CPU seconds (0.8 s and 0.84 s) over 10 s runs.
    const rows = text.split('\n').filter((line) => line.startsWith('| Gatehouse'));
    expect(rows).toEqual([
      '| Gatehouse, public route | 15,000 (12,500–15,000) | 1.00 ms | 3.50 ms | 6.0 µs | 8.0 % |',
      '| Gatehouse, signed-in route (header token) | 12,000 (12,000–13,500) | 1.00 ms | 3.50 ms | 7.0 µs | 8.4 % |',
    ]);
  });

  it('states the signed-in/public ratio in requests/s and per CPU-second, and the CPU time it adds', () => {
    expect(text).toContain(
      '- Signed-in / public route: **0.80×** requests/s (per round 0.80×–0.96×); per CPU-second **0.86×**.',
    );
    expect(text).toContain(
      '- CPU time per request: 7.0 µs signed in, 6.0 µs public: +1.0 µs (+16.7 %) per request.',
    );
  });
});
