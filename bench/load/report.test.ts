import { describe, expect, it } from 'vitest';
import type { Run, WrkResult } from './report.js';
import {
  FIGURES_END,
  FIGURES_START,
  findRunProblems,
  median,
  parseCpuList,
  parseCpuSeconds,
  parseCpuTimes,
  parseWrkResult,
  PROXIES,
  proxyOrder,
  renderFigures,
  replaceFigures,
  roundRatios,
  summarizeRuns,
} from './report.js';

const wrkOutput = [
  'Running 10s test @ http://127.0.0.1:40001/',
  '  1 threads and 50 connections',
  '  400000 requests in 10.00s, 60.00MB read',
  'Requests/sec:  40000.00',
  'WRK_RESULT {"requests":400000,"duration_us":10000000,"latency_p50_us":1250,"latency_p99_us":4800,' +
    '"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0}}',
  '',
].join('\n');

const cleanErrors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
const resultAt = (requestsPerSecond: number, latencyMs = { p50: 1, p99: 3.5 }): WrkResult => ({
  requests: requestsPerSecond * 10,
  requestsPerSecond,
  latencyMs,
  errors: cleanErrors,
});
const runAt = (requestsPerSecond: number, latencyMs?: WrkResult['latencyMs'], cpuSeconds = 1): Run => ({
  result: resultAt(requestsPerSecond, latencyMs),
  cpuSeconds,
});

describe('parseWrkResult', () => {
  it('reads requests per second and latency percentiles in milliseconds from the result line', () => {
    expect(parseWrkResult(wrkOutput)).toEqual({
      requests: 400000,
      requestsPerSecond: 40000,
      latencyMs: { p50: 1.25, p99: 4.8 },
      errors: cleanErrors,
    });
  });

  it('refuses output without the result line, quoting what wrk printed', () => {
    expect(() => parseWrkResult('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(
      /no WRK_RESULT line:\nunable to connect/,
    );
  });
});

describe('findRunProblems', () => {
  it('accepts a run where every request got a 2xx or 3xx answer', () => {
    expect(findRunProblems(resultAt(1000))).toEqual([]);
  });

  it('rejects a run that measured error responses', () => {
    const result = { ...resultAt(1000), errors: { ...cleanErrors, status: 12 } };
    expect(findRunProblems(result)).toEqual(['12 responses were not 2xx/3xx']);
  });

  it('rejects a run with socket errors or no completed request', () => {
    const result = { ...resultAt(0), errors: { ...cleanErrors, read: 3, timeout: 1 } };
    expect(findRunProblems(result)).toEqual([
      'no request completed',
      'socket errors: connect 0, read 3, write 0, timeout 1',
    ]);
  });
});

describe('parseCpuSeconds', () => {
  it('adds utime and stime, counting fields after a command name that holds spaces and parentheses', () => {
    const stat =
      '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 730 270 0 0 20 0 11 0 196264 3133440 410\n';
    expect(parseCpuSeconds(stat, 100)).toBe(10);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseCpuSeconds('no such process', 100)).toThrow(/not a \/proc\/<pid>\/stat line/);
  });
});

describe('parseCpuList', () => {
  it('expands ranges and single CPUs in ascending order', () => {
    expect(parseCpuList('4,0-2\n')).toEqual([0, 1, 2, 4]);
  });

  it('refuses anything else', () => {
    expect(() => parseCpuList('0-1;3')).toThrow(/not a CPU list/);
  });
});

describe('parseCpuTimes', () => {
  it('totals the eight first counters of each CPU line and reads its steal time', () => {
    const procStat = [
      'cpu  117028 34 42990 205892 1024 0 17797 160 0 0',
      'cpu0 10 0 20 60 4 0 3 3 50 0',
      'cpu1 1 2 3 4 5 6 7 8 0 0',
      'intr 1234',
    ].join('\n');
    expect(parseCpuTimes(procStat)).toEqual(
      new Map([
        [0, { total: 100, steal: 3 }],
        [1, { total: 36, steal: 8 }],
      ]),
    );
  });
});

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 10, 2])).toBe(3);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(TypeError);
  });
});

describe('summarizeRuns', () => {
  it('takes each figure’s median on its own, the requests/s range, and CPU time per request in µs', () => {
    const summary = summarizeRuns([
      runAt(10000, { p50: 1, p99: 9 }, 0.8),
      runAt(14000, { p50: 3, p99: 4 }, 0.7),
      runAt(12000, { p50: 2, p99: 5 }, 1.8),
    ]);
    expect(summary).toEqual({
      requestsPerSecond: 12000,
      minRequestsPerSecond: 10000,
      maxRequestsPerSecond: 14000,
      latencyMs: { p50: 2, p99: 5 },
      // 0.8 s / 100,000 requests, 0.7 s / 140,000, 1.8 s / 120,000: 8, 5 and 15 µs.
      cpuMicrosecondsPerRequest: 8,
      // 0.8 s, 0.7 s and 1.8 s over 10 s runs.
      cpuUse: 0.08,
    });
  });
});

describe('roundRatios', () => {
  it('divides Gatehouse’s requests/s by the baseline’s of the same round', () => {
    expect(roundRatios([runAt(10000), runAt(8000)], [runAt(13000), runAt(12000)])).toEqual([1.3, 1.5]);
  });

  it('refuses lists of different lengths', () => {
    expect(() => roundRatios([runAt(1)], [])).toThrow(TypeError);
  });
});

describe('proxyOrder', () => {
  it('rotates the three proxies by one more each round, starting over every third round', () => {
    expect(proxyOrder(0)).toEqual(['bare', 'keepAlive', 'gatehouse']);
    expect(proxyOrder(1)).toEqual(['keepAlive', 'gatehouse', 'bare']);
    expect(proxyOrder(2)).toEqual(['gatehouse', 'bare', 'keepAlive']);
    expect(proxyOrder(3)).toEqual(proxyOrder(0));
  });

  it('puts every proxy in every position exactly once over any three consecutive rounds', () => {
    const orders = [4, 5, 6].map(proxyOrder);
    for (const position of [0, 1, 2]) {
      expect(orders.map((order) => order[position]).sort()).toEqual([...PROXIES].sort());
    }
  });

  it('refuses a round that is not a whole number from 0', () => {
    expect(() => proxyOrder(-1)).toThrow(TypeError);
    expect(() => proxyOrder(1.5)).toThrow(TypeError);
  });
});

describe('renderFigures', () => {
  // Three rounds; per round Gatehouse over bare: 15000/10000, 12000/9000, 13000/11000, and over
  // keep-alive: 15000/12000, 12000/12000, 13000/10000.
  const figures = (gatehouseRates: number[], directRate = 40000) =>
    renderFigures({
      date: '2026-01-02',
      machine: '2 CPUs',
      setup: 'Pinned with `taskset`.',
      minimumRatioOverBare: 1.3,
      steal: [
        { cpu: 0, share: 0.012 },
        { cpu: 1, share: 0.3 },
      ],
      runs: {
        direct: [runAt(directRate), runAt(directRate), runAt(directRate)],
        bare: [runAt(10000, undefined, 0.8), runAt(9000, undefined, 0.8), runAt(11000, undefined, 0.8)],
        keepAlive: [runAt(12000, undefined, 0.6), runAt(12000, undefined, 0.6), runAt(10000, undefined, 0.6)],
        gatehouse: gatehouseRates.map((rate) => runAt(rate, undefined, 0.4)),
      },
    });

  it('tabulates all four targets in order, each with its range, latencies, CPU time per request and CPU use', () => {
    const rows = figures([15000, 12000, 13000])
      .split('\n')
      .filter((line) => /^\| (?!target |---)/.test(line));
    expect(rows).toEqual([
      '| direct upstream | 40,000 (40,000–40,000) | 1.00 ms | 3.50 ms | 2.5 µs | 10.0 % |',
      '| bare http-proxy (README script) | 10,000 (9,000–11,000) | 1.00 ms | 3.50 ms | 8.0 µs | 8.0 % |',
      '| keep-alive-tuned http-proxy | 12,000 (10,000–12,000) | 1.00 ms | 3.50 ms | 5.0 µs | 6.0 % |',
      '| Gatehouse | 13,000 (12,000–15,000) | 1.00 ms | 3.50 ms | 3.1 µs | 4.0 % |',
    ]);
    expect(figures([15000, 12000, 13000])).toContain('Medians over 3 rounds');
  });

  it('judges the target against the README script: ratio of medians, per-round range, rounds met', () => {
    // Median CPU per request: bare 0.8 s / 100,000 = 8 µs, Gatehouse 0.4 s / 130,000 ≈ 3.08 µs.
    expect(figures([15000, 12000, 13000])).toContain(
      '- Gatehouse / bare http-proxy (README script): **1.30×** (target ≥ 1.30×: met; per round ' +
        '1.18×–1.50×, met in 2 of 3); per CPU-second 2.60×.',
    );
  });

  it('says so when Gatehouse misses the target over the README script', () => {
    expect(figures([12000, 12000, 12000])).toContain(
      '- Gatehouse / bare http-proxy (README script): **1.20×** (target ≥ 1.30×: NOT met;',
    );
  });

  it('compares with the keep-alive-tuned proxy without a target, in requests/s and per CPU-second', () => {
    // Median CPU per request: keep-alive 0.6 s / 120,000 = 5 µs, Gatehouse ≈ 3.08 µs.
    const text = figures([15000, 12000, 13000]);
    expect(text).toContain(
      '- Gatehouse / keep-alive-tuned http-proxy: **1.08×** (per round 1.00×–1.30×) — no target; ' +
        'shown because it is the stronger baseline; per CPU-second **1.63×**.',
    );
    expect(text.match(/target ≥/g)).toHaveLength(1);
  });

  it('states the ratio to the direct upstream and the steal shares', () => {
    const text = figures([15000, 12000, 13000]);
    expect(text).toContain('- Gatehouse / direct upstream: 0.33× (per round 0.30×–0.38×).');
    expect(text).toContain('CPU steal over the measurements: CPU 0 1.2 %, CPU 1 30.0 %.');
  });

  it('tells whether the direct upstream outran the fastest proxy enough to rule out the load side', () => {
    expect(figures([13000, 13000, 13000])).toContain(
      'direct upstream / fastest proxy: 3.08× requests/s (the load side is not the bottleneck)',
    );
    // The keep-alive-tuned proxy is the fastest here: 20,000 / 12,000.
    expect(figures([11000, 11000, 11000], 20000)).toContain(
      '1.67× requests/s (below 2.00×: the load side may be limiting the proxies)',
    );
  });
});

describe('replaceFigures', () => {
  const readme = `# Benchmarks\n\nHand-written text.\n\n## Latest figures\n\n${FIGURES_START}\nold figures\n${FIGURES_END}\n\nAfter.\n`;

  it('replaces only the text between the markers', () => {
    expect(replaceFigures(readme, 'new figures')).toBe(
      `# Benchmarks\n\nHand-written text.\n\n## Latest figures\n\n${FIGURES_START}\n\nnew figures\n\n${FIGURES_END}\n\nAfter.\n`,
    );
  });

  it('refuses a README without both markers rather than appending somewhere', () => {
    expect(() => replaceFigures('# Benchmarks\n', 'new figures')).toThrow(/must contain/);
    expect(() => replaceFigures(`${FIGURES_END}\n${FIGURES_START}\n`, 'new figures')).toThrow(/must contain/);
  });
});
