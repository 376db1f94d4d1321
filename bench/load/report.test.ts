import { describe, expect, it } from 'vitest';
import type { WrkResult } from './report.js';
import {
  FIGURES_END,
  FIGURES_START,
  findRunProblems,
  parseWrkResult,
  renderFigures,
  replaceFigures,
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
const resultAt = (requestsPerSecond: number): WrkResult => ({
  requests: requestsPerSecond * 10,
  requestsPerSecond,
  latencyMs: { p50: 1, p99: 3.5 },
  errors: cleanErrors,
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

describe('renderFigures', () => {
  const figures = (gatehouseRate: number) =>
    renderFigures({
      date: '2026-01-02',
      machine: '2 CPUs',
      command: 'wrk -t1 -c50 -d10s',
      minimumRatioOverBare: 1.3,
      rows: [
        { target: 'direct', label: 'direct upstream', result: resultAt(40000) },
        { target: 'bare', label: 'bare http-proxy', result: resultAt(10000) },
        { target: 'gatehouse', label: 'Gatehouse', result: resultAt(gatehouseRate) },
      ],
    });

  it('tabulates every target and states both ratios', () => {
    const text = figures(15000);
    expect(text).toContain('| bare http-proxy | 10,000 | 1.00 ms | 3.50 ms |');
    expect(text).toContain('Gatehouse / bare http-proxy: **1.50×** requests/s (target ≥ 1.30×: met).');
    expect(text).toContain('Gatehouse / direct upstream: 0.38× requests/s.');
  });

  it('says so when Gatehouse misses the target over the bare proxy', () => {
    expect(figures(12000)).toContain('**1.20×** requests/s (target ≥ 1.30×: NOT met)');
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
