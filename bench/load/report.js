// Pure helpers of the load benchmark: read wrk's result line and the kernel's CPU counters, judge a run,
// summarise the rounds and render the figures into bench/README.md between its markers. No I/O here, so
// bench/load/report.test.ts can pin them down.

const RESULT_PREFIX = 'WRK_RESULT ';
export const FIGURES_START = '<!-- latest-figures:start -->';
export const FIGURES_END = '<!-- latest-figures:end -->';
/**
 * Direct upstream requests/s over the fastest proxy's. In a direct run wrk and the upstream have the load
 * CPU to themselves, so their rate is what that CPU can feed; below twice the proxies' rate it may be
 * what limits them.
 */
export const MINIMUM_LOAD_HEADROOM = 2;

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

/**
 * CPU seconds a process has used in user and kernel mode, all its threads together, from the text of
 * /proc/<pid>/stat: fields 14 (utime) and 15 (stime), in clock ticks (proc(5)). The command name in
 * field 2 may hold spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseCpuSeconds(stat, clockTicksPerSecond) {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(stat.slice(0, 200))}`);
  }
  return (utime + stime) / clockTicksPerSecond;
}

/** The CPU numbers of a list such as `0-1,4` (Cpus_allowed_list in /proc/<pid>/status), ascending. */
export function parseCpuList(list) {
  const cpus = new Set();
  for (const part of list.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    const first = Number(match[1]);
    const last = Number(match[2] ?? match[1]);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/**
 * Per-CPU time counters from the text of /proc/stat, in clock ticks: `total` of all states and `steal`,
 * the time the hypervisor ran someone else while this CPU had work (proc(5)).
 */
export function parseCpuTimes(procStat) {
  const times = new Map();
  for (const line of procStat.split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (match === null) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already counted in
    // user and nice, so only the first eight make up the total.
    const counters = match[2].trim().split(/\s+/).slice(0, 8).map(Number);
    times.set(Number(match[1]), {
      total: counters.reduce((sum, value) => sum + value, 0),
      steal: counters[7] ?? 0,
    });
  }
  return times;
}

export function median(values) {
  if (values.length === 0) throw new TypeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU time the serving process spent per completed request of one run, in microseconds. */
const cpuMicrosecondsPerRequest = (run) => (run.cpuSeconds / run.result.requests) * 1e6;

/**
 * CPU seconds the serving process used per second of the run. Requests/s is this over the CPU time per
 * request, so a pinned proxy well below 100 % was kept off its CPU by something else.
 */
const cpuUse = (run) => (run.cpuSeconds * run.result.requestsPerSecond) / run.result.requests;

/** Medians over the rounds of one target, each figure on its own, plus the range of requests/s. */
export function summarizeRuns(runs) {
  const rates = runs.map((run) => run.result.requestsPerSecond);
  return {
    requestsPerSecond: median(rates),
    minRequestsPerSecond: Math.min(...rates),
    maxRequestsPerSecond: Math.max(...rates),
    latencyMs: {
      p50: median(runs.map((run) => run.result.latencyMs.p50)),
      p99: median(runs.map((run) => run.result.latencyMs.p99)),
    },
    cpuMicrosecondsPerRequest: median(runs.map(cpuMicrosecondsPerRequest)),
    cpuUse: median(runs.map(cpuUse)),
  };
}

/** Gatehouse's requests/s over a baseline's, round by round (both lists are in round order). */
export function roundRatios(baselineRuns, gatehouseRuns) {
  if (baselineRuns.length !== gatehouseRuns.length) {
    throw new TypeError('roundRatios needs one baseline and one Gatehouse run per round');
  }
  return gatehouseRuns.map(
    (run, round) => run.result.requestsPerSecond / baselineRuns[round].result.requestsPerSecond,
  );
}

/** The proxies each round measures after the direct upstream, in the first round's order. */
export const PROXIES = ['bare', 'keepAlive', 'gatehouse'];

export const TARGET_LABELS = {
  direct: 'direct upstream',
  bare: 'bare http-proxy (README script)',
  keepAlive: 'keep-alive-tuned http-proxy',
  gatehouse: 'Gatehouse',
  signedIn: 'Gatehouse, signed-in route (header token)',
};
/** The `gatehouse` row's label when the signed-in route is measured too: the two rows are one process. */
const PUBLIC_ROUTE_LABEL = 'Gatehouse, public route';

/**
 * The order in which round `round` (counted from 0) measures the proxies: the first round's order
 * rotated by one more each round, so over any three rounds each proxy runs first, second and third once
 * and none always runs right after the direct upstream or right after a given other proxy.
 */
export function proxyOrder(round) {
  if (!Number.isInteger(round) || round < 0) throw new TypeError(`not a round number: ${round}`);
  const shift = round % PROXIES.length;
  return [...PROXIES.slice(shift), ...PROXIES.slice(0, shift)];
}

/**
 * Every target round `round` measures after the direct upstream: the proxies in `proxyOrder`, with
 * Gatehouse's signed-in route measured right next to its public route (same process), after it in even
 * rounds and before it in odd ones. Over six rounds the pair takes each of the three positions once in
 * each of its two orders, and the signed-in/public ratio compares runs seconds apart.
 */
export function measurementOrder(round) {
  const pair = round % 2 === 0 ? ['gatehouse', 'signedIn'] : ['signedIn', 'gatehouse'];
  return proxyOrder(round).flatMap((proxy) => (proxy === 'gatehouse' ? pair : [proxy]));
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const formatMs = (ms) => `${ms.toFixed(2)} ms`;
const formatRatio = (ratio) => `${ratio.toFixed(2)}×`;
const formatPercent = (share) => `${(share * 100).toFixed(1)} %`;
const formatRange = (values, format) => `${format(Math.min(...values))}–${format(Math.max(...values))}`;

const TARGETS = ['direct', ...PROXIES];

/**
 * The Markdown of the "Latest figures" section body. `runs` holds, for each of `direct`, `bare`,
 * `keepAlive` and `gatehouse` (and `signedIn` when Gatehouse's signed-in route was measured), one run per
 * round in round order; `setup` is Markdown saying how they were run; `steal` lists the CPUs' steal
 * shares over the measurements.
 */
export function renderFigures({ date, machine, setup, runs, steal, minimumRatioOverBare }) {
  const hasSignedIn = runs.signedIn !== undefined;
  const targets = hasSignedIn ? [...TARGETS, 'signedIn'] : TARGETS;
  const labels = hasSignedIn ? { ...TARGET_LABELS, gatehouse: PUBLIC_ROUTE_LABEL } : TARGET_LABELS;
  const summaries = new Map(targets.map((target) => [target, summarizeRuns(runs[target])]));
  const gatehouse = summaries.get('gatehouse');
  /** Gatehouse over one target: ratio of the medians, per-round ratios, requests per CPU-second. */
  const compare = (baseline) => ({
    ratio: gatehouse.requestsPerSecond / summaries.get(baseline).requestsPerSecond,
    perRound: roundRatios(runs[baseline], runs.gatehouse),
    perCpuSecond: summaries.get(baseline).cpuMicrosecondsPerRequest / gatehouse.cpuMicrosecondsPerRequest,
  });
  const overBare = compare('bare');
  const overKeepAlive = compare('keepAlive');
  const overDirect = compare('direct');

  const roundCount = overBare.perRound.length;
  const roundsMet = overBare.perRound.filter((ratio) => ratio >= minimumRatioOverBare).length;
  const verdict = overBare.ratio >= minimumRatioOverBare ? 'met' : 'NOT met';
  const fastestProxy = Math.max(...PROXIES.map((proxy) => summaries.get(proxy).requestsPerSecond));
  const headroom = summaries.get('direct').requestsPerSecond / fastestProxy;
  const headroomVerdict =
    headroom >= MINIMUM_LOAD_HEADROOM
      ? 'the load side is not the bottleneck'
      : `below ${formatRatio(MINIMUM_LOAD_HEADROOM)}: the load side may be limiting the proxies`;

  return [
    `Run on ${date}: ${machine}.`,
    '',
    setup,
    '',
    `Medians over ${roundCount} round${roundCount === 1 ? '' : 's'} (requests/s range in brackets):`,
    '',
    '| target | requests/s | latency p50 | latency p99 | CPU time per request | CPU use |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...targets.map((target) => {
      const summary = summaries.get(target);
      const range = `${integer.format(summary.minRequestsPerSecond)}–${integer.format(summary.maxRequestsPerSecond)}`;
      return (
        `| ${labels[target]} | ${integer.format(summary.requestsPerSecond)} (${range}) ` +
        `| ${formatMs(summary.latencyMs.p50)} | ${formatMs(summary.latencyMs.p99)} ` +
        `| ${summary.cpuMicrosecondsPerRequest.toFixed(1)} µs | ${formatPercent(summary.cpuUse)} |`
      );
    }),
    '',
    "Gatehouse's ratio of median requests/s to each other target, with the range of the per-round " +
      'ratios, and its ratio of requests per CPU-second (from the median CPU times per request, which ' +
      'steal time and waiting for a CPU do not inflate):',
    '',
    `- Gatehouse / ${TARGET_LABELS.bare}: **${formatRatio(overBare.ratio)}** ` +
      `(target ≥ ${formatRatio(minimumRatioOverBare)}: ${verdict}; per round ` +
      `${formatRange(overBare.perRound, formatRatio)}, met in ${roundsMet} of ${roundCount}); ` +
      `per CPU-second ${formatRatio(overBare.perCpuSecond)}.`,
    `- Gatehouse / ${TARGET_LABELS.keepAlive}: **${formatRatio(overKeepAlive.ratio)}** ` +
      `(per round ${formatRange(overKeepAlive.perRound, formatRatio)}) — no target; shown because it is ` +
      `the stronger baseline; per CPU-second **${formatRatio(overKeepAlive.perCpuSecond)}**.`,
    `- Gatehouse / ${TARGET_LABELS.direct}: ${formatRatio(overDirect.ratio)} ` +
      `(per round ${formatRange(overDirect.perRound, formatRatio)}).`,
    `- Load headroom, direct upstream / fastest proxy: ${formatRatio(headroom)} requests/s (${headroomVerdict}).`,
    `- CPU steal over the measurements: ${steal.map(({ cpu, share }) => `CPU ${cpu} ${formatPercent(share)}`).join(', ')}.`,
    ...(hasSignedIn ? ['', renderSignedInCost(summaries, runs)] : []),
  ].join('\n');
}

/**
 * What signing in costs on the hot path: the signed-in route over the public route of the same Gatehouse
 * process, in requests/s (ratio of medians and per-round range) and in CPU time per request.
 */
function renderSignedInCost(summaries, runs) {
  const signedIn = summaries.get('signedIn');
  const publicRoute = summaries.get('gatehouse');
  const perRound = roundRatios(runs.gatehouse, runs.signedIn);
  const extraMicroseconds = signedIn.cpuMicrosecondsPerRequest - publicRoute.cpuMicrosecondsPerRequest;
  const sign = extraMicroseconds < 0 ? '−' : '+';
  return [
    'What a signed-in request costs over a public one, both routes of the same Gatehouse process measured ' +
      'back to back in every round:',
    '',
    `- Signed-in / public route: **${formatRatio(signedIn.requestsPerSecond / publicRoute.requestsPerSecond)}** ` +
      `requests/s (per round ${formatRange(perRound, formatRatio)}); per CPU-second ` +
      `**${formatRatio(publicRoute.cpuMicrosecondsPerRequest / signedIn.cpuMicrosecondsPerRequest)}**.`,
    `- CPU time per request: ${signedIn.cpuMicrosecondsPerRequest.toFixed(1)} µs signed in, ` +
      `${publicRoute.cpuMicrosecondsPerRequest.toFixed(1)} µs public: ${sign}${Math.abs(extraMicroseconds).toFixed(1)} µs ` +
      `(${sign}${formatPercent(Math.abs(extraMicroseconds) / publicRoute.cpuMicrosecondsPerRequest)}) per request.`,
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
