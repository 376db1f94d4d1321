// Pure helpers of the load benchmark: read wrk's result line, judge it, and render the figures into
// bench/README.md between its markers. No I/O here, so bench/load/report.test.ts can pin them down.

const RESULT_PREFIX = 'WRK_RESULT ';
export const FIGURES_START = '<!-- latest-figures:start -->';
export const FIGURES_END = '<!-- latest-figures:end -->';

/** Reads the line bench/load/report.lua prints at the end of a wrk run. */
export function parseWrkResult(output) {
  const line = output.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`wrk printed no ${RESULT_PREFIX.trim()} line:\n${output}`);
  const raw = JSON.parse(line.slice(RESULT_PREFIX.length));
  const durationSeconds = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    requestsPerSecond: raw.requests / durationSeconds,
    latencyMs: { p50: raw.latency_p50_us / 1000, p99: raw.latency_p99_us / 1000 },
    errors: raw.errors,
  };
}

/** Why a run cannot be trusted as a throughput figure; empty when it can. */
export function findRunProblems(result) {
  const problems = [];
  if (result.requests === 0) problems.push('no request completed');
  if (result.errors.status > 0) problems.push(`${result.errors.status} responses were not 2xx/3xx`);
  const { connect, read, write, timeout } = result.errors;
  if (connect + read + write + timeout > 0) {
    problems.push(`socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`);
  }
  return problems;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const formatMs = (ms) => `${ms.toFixed(2)} ms`;
const formatRatio = (ratio) => `${ratio.toFixed(2)}×`;

/**
 * The Markdown of the "Latest figures" section body. `rows` are `{ target, result }` in table order and
 * must include the targets named `gatehouse`, `bare` and `direct` for the ratios.
 */
export function renderFigures({ date, machine, command, rows, minimumRatioOverBare }) {
  const rateOf = (target) => {
    const row = rows.find((candidate) => candidate.target === target);
    if (row === undefined) throw new TypeError(`renderFigures needs a row for ${target}`);
    return row.result.requestsPerSecond;
  };
  const overBare = rateOf('gatehouse') / rateOf('bare');
  const overDirect = rateOf('gatehouse') / rateOf('direct');
  const verdict = overBare >= minimumRatioOverBare ? 'met' : 'NOT met';
  return [
    `Run on ${date}: ${machine}.`,
    '',
    `Each target: \`${command}\`, after a warm-up run of the same command.`,
    '',
    '| target | requests/s | latency p50 | latency p99 |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      ({ label, result }) =>
        `| ${label} | ${integer.format(result.requestsPerSecond)} | ${formatMs(result.latencyMs.p50)} | ${formatMs(result.latencyMs.p99)} |`,
    ),
    '',
    `- Gatehouse / bare http-proxy: **${formatRatio(overBare)}** requests/s ` +
      `(target ≥ ${formatRatio(minimumRatioOverBare)}: ${verdict}).`,
    `- Gatehouse / direct upstream: ${formatRatio(overDirect)} requests/s.`,
  ].join('\n');
}

/** Replaces what lies between the markers, keeping everything else of the README byte for byte. */
export function replaceFigures(readme, figures) {
  const start = readme.indexOf(FIGURES_START);
  const end = readme.indexOf(FIGURES_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`bench/README.md must contain ${FIGURES_START} followed by ${FIGURES_END}`);
  }
  return `${readme.slice(0, start + FIGURES_START.length)}\n\n${figures}\n\n${readme.slice(end)}`;
}
