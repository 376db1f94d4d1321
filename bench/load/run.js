// Load benchmark: the same small JSON answer fetched directly from the upstream, through the bare
// http-proxy script of http-proxy's README, through the same script tuned with a keep-alive agent, and
// through Gatehouse on a public route and on a signed-in route (a session token in a header), each
// measured by wrk in one run on loopback. Writes the figures into bench/README.md between its markers.
// Run with `npm run bench` (it builds dist/ first); the signed-in route needs Redis on 127.0.0.1:6379.
import { spawn, spawnSync } from 'node:child_process';
import console from 'node:console';
import { accessSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import {
  findRunProblems,
  measurementOrder,
  parseCpuList,
  parseCpuSeconds,
  parseCpuTimes,
  parseWrkResult,
  PROXIES,
  renderFigures,
  replaceFigures,
  TARGET_LABELS,
} from './report.js';
import { createBenchSession, deleteKeysWithPrefix, newBenchIdentity, REDIS_URL } from './session.js';

const WRK = '/usr/bin/wrk';
// Loopback only: the benchmark never listens on or connects to any other address.
const LOOPBACK = '127.0.0.1';
const WARM_UP_SECONDS = 3;
const MEASURE_SECONDS = 5;
// A multiple of the three proxies, so that each runs first, second and third equally often, and of the
// two orders of Gatehouse's public and signed-in routes (see measurementOrder).
const DEFAULT_ROUNDS = 6;
// A typo in BENCH_ROUNDS must not start an hour-long run.
const MAX_ROUNDS = 25;
const MINIMUM_RATIO_OVER_BARE = 1.3;
const STARTUP_TIMEOUT_MS = 15_000;
const EXPECTED_BODY = JSON.stringify({ message: 'HELLO WORLD' });
/** Gatehouse's second route: any signed-in user, same upstream as the public route. */
const SIGNED_IN_HOST = 'signed-in.localhost';
const TOKEN_HEADER = 'X-Pomerium-Authorization';

const loadDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(loadDir, '../..');
const readmePath = path.join(repoRoot, 'bench/README.md');
const gatehouseCli = path.join(repoRoot, 'dist/cli.js');

/** Every process this script started; all are killed however the script ends. */
const children = new Set();
const workDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
/** This run's secrets and Redis key prefix, shared by the generated config and the bench's session. */
const identity = newBenchIdentity();
/** Set once this run may have written to Redis; its keys (and only those) are deleted at exit. */
let hasRedisKeys = false;

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
  if (!hasRedisKeys) return;
  try {
    const deleted = deleteKeysWithPrefix(identity.keyPrefix);
    console.log(`Deleted ${deleted} Redis key${deleted === 1 ? '' : 's'} under ${identity.keyPrefix}`);
  } catch (error) {
    console.error(`bench: could not delete the Redis keys under ${identity.keyPrefix}: ${error.message}`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function readRounds(value) {
  if (value === undefined || value === '') return DEFAULT_ROUNDS;
  const rounds = Number(value);
  if (!/^\d+$/.test(value) || rounds < 1 || rounds > MAX_ROUNDS) {
    fail(`BENCH_ROUNDS must be a whole number from 1 to ${MAX_ROUNDS}, not ${JSON.stringify(value)}`);
  }
  return rounds;
}

const rounds = readRounds(process.env.BENCH_ROUNDS);
// Five warm-ups, then five measurements per round (the direct upstream, the two http-proxy scripts and
// Gatehouse's two routes), each given a second for wrk to start and stop, plus a minute for start-up and
// writing the README; anything longer means something hangs.
const TARGET_COUNT = 1 + PROXIES.length + 1;
const wrkRuns = TARGET_COUNT + TARGET_COUNT * rounds;
const WHOLE_RUN_TIMEOUT_MS =
  (TARGET_COUNT * WARM_UP_SECONDS + TARGET_COUNT * rounds * MEASURE_SECONDS + wrkRuns) * 1000 + 60_000;
setTimeout(() => fail(`gave up after ${WHOLE_RUN_TIMEOUT_MS / 1000} s`), WHOLE_RUN_TIMEOUT_MS).unref();
// The bench's session outlives any run that does not hang, and not much more: should this process be
// killed before it deletes its keys, Redis drops them soon after.
const SESSION_TTL_MS = WHOLE_RUN_TIMEOUT_MS + 60_000;

function requireFile(file, mode, hint) {
  try {
    accessSync(file, mode);
  } catch {
    fail(`${file} is missing. ${hint}`);
  }
}

/**
 * Where processes run. With taskset and two CPUs, the proxy under test gets a CPU to itself and wrk and
 * the upstream share the other, so the three proxies are measured on the same, otherwise idle, CPU
 * instead of competing with their own load generator for whichever CPU the scheduler picks.
 */
function choosePlacement() {
  const allowed = parseCpuList(
    /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '',
  );
  const [loadCpu, proxyCpu] = allowed;
  if (spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) {
    return { cpus: allowed, reason: 'taskset (util-linux) is not installed' };
  }
  if (proxyCpu === undefined) return { cpus: allowed, reason: 'this process may use only one CPU' };
  return { cpus: [loadCpu, proxyCpu], loadCpu, proxyCpu };
}

const placement = choosePlacement();

/** The command and arguments that run `command` on `cpu`, or unpinned when taskset cannot be used. */
function onCpu(cpu, command, args) {
  return placement.proxyCpu === undefined
    ? [command, args]
    : ['taskset', ['-c', String(cpu), command, ...args]];
}

/** A command line as the README shows it: repository paths relative, `node` for this Node. */
function describeCommand([command, args]) {
  return [command, ...args]
    .map((word) => (word === process.execPath ? 'node' : word.replace(`${repoRoot}/`, '')))
    .map((word) => (word.includes(' ') ? `'${word}'` : word))
    .join(' ');
}

/** utime + stime of a process so far, in seconds (see parseCpuSeconds). */
const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
function cpuSecondsOf(pid) {
  return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond);
}

/** Free loopback ports, held open together so the same one is not handed out twice. */
async function findFreePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = net.createServer();
      return new Promise((resolve) => server.listen(0, LOOPBACK, () => resolve(server)));
    }),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Starts a long-running Node program on `cpu`; `exited` rejects if it stops before this script is done
 * with it. taskset execs the program, so `pid` is the program's own.
 */
function startProcess(name, cpu, args, { stdout = 'ignore', env = process.env } = {}) {
  const [command, commandArgs] = onCpu(cpu, process.execPath, args);
  const child = spawn(command, commandArgs, { cwd: repoRoot, env, stdio: ['ignore', stdout, 'pipe'] });
  children.add(child);
  let stderrTail = '';
  child.stderr.on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  const exited = new Promise((_resolve, reject) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      reject(new Error(`${name} exited (${signal ?? `code ${code}`}) early:\n${stderrTail}`));
    });
  });
  // Only awaited in races; keep an early exit from being an unhandled rejection in between.
  exited.catch(() => {});
  return { name, cpu, pid: child.pid, exited };
}

/** Refuses to measure a process whose CPU placement is not the one the README will claim. */
function checkPlacement(started) {
  if (placement.proxyCpu === undefined) return;
  const status = readFileSync(`/proc/${started.pid}/status`, 'utf8');
  const allowed = parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? '');
  if (allowed.join(',') !== String(started.cpu)) {
    fail(`${started.name} may run on CPUs ${allowed.join(',')}, not only on CPU ${started.cpu}`);
  }
}

/** Runs a command to completion within a time limit and returns its stdout. */
function runToCompletion([command, args], timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `code ${code}`}):\n${stderr}`));
    });
  });
}

/** The request headers of the targets other than Gatehouse's signed-in route. */
const PUBLIC_HEADERS = { Host: 'localhost' };

/** One GET on loopback (`Host: localhost` unless told), without keep-alive; resolves with status and body. */
function get(port, urlPath, headers = PUBLIC_HEADERS) {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: LOOPBACK, port, path: urlPath, headers, agent: false, timeout: 2000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

async function waitUntilAnswers(child, port, urlPath) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const answer = await Promise.race([get(port, urlPath).catch(() => undefined), child.exited]);
    if (answer?.status === 200) return;
    if (Date.now() > deadline)
      fail(`${child.name} did not answer 200 on ${urlPath} within ${STARTUP_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A target that answers anything but the upstream's body would measure an error page, not a proxy. */
async function checkForwards(target) {
  const { status, body } = await get(target.port, '/', target.headers);
  if (status !== 200 || body !== EXPECTED_BODY) {
    fail(
      `${target.label} answered ${status} ${JSON.stringify(body.slice(0, 200))} instead of the upstream's body`,
    );
  }
}

/**
 * The signed-in route must really need the session: without a credential, or with a token Gatehouse did
 * not sign, it must answer 401. Otherwise the signed-in figures could be a public route's.
 */
async function checkRequiresSession(target) {
  const token = target.headers[TOKEN_HEADER];
  const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  const attempts = [
    ['no credential', { Host: SIGNED_IN_HOST }],
    ['a forged token', { Host: SIGNED_IN_HOST, [TOKEN_HEADER]: forged }],
  ];
  for (const [what, headers] of attempts) {
    const { status } = await get(target.port, '/', headers);
    if (status !== 401) fail(`${target.label} answered ${status}, not 401, to a request with ${what}`);
  }
}

/** A YAML string: JSON's double-quoted strings are YAML too, and the key prefix ends in `:`. */
const yamlString = (value) => JSON.stringify(value);

/**
 * One Gatehouse for both of its targets: a public route and a route for any signed-in user, to the same
 * upstream. Sign-in is configured as it must be for the second route, with an IdP nobody listens to:
 * discovery fails with a warning in the log and nobody signs in; the session comes from this script.
 */
function gatehouseConfig(gatehousePort, upstreamPort) {
  return [
    'insecure_server: true',
    `address: ${LOOPBACK}:${gatehousePort}`,
    'log_level: info',
    'idp_provider_url: http://127.0.0.1:9/',
    'idp_client_id: gatehouse-bench',
    'idp_client_secret: gatehouse-bench-unused',
    `shared_secret: ${yamlString(identity.sharedSecret)}`,
    `cookie_secret: ${yamlString(identity.cookieSecret)}`,
    'databroker_storage_type: redis',
    `databroker_storage_connection_string: ${yamlString(REDIS_URL)}`,
    `databroker_storage_key_prefix: ${yamlString(identity.keyPrefix)}`,
    'routes:',
    '  - from: http://localhost',
    '    prefix: /',
    `    to: http://${LOOPBACK}:${upstreamPort}`,
    '    allow_public_unauthenticated_access: true',
    `  - from: http://${SIGNED_IN_HOST}`,
    '    prefix: /',
    `    to: http://${LOOPBACK}:${upstreamPort}`,
    '    allow_any_authenticated_user: true',
    '',
  ].join('\n');
}

/** wrk on the load CPU: one thread, 50 keep-alive connections, every request with `headers`. */
function wrkCommand(seconds, port, headers) {
  const script = path.join(loadDir, 'report.lua');
  return onCpu(placement.loadCpu, WRK, [
    '-t1',
    '-c50',
    `-d${seconds}s`,
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '-s',
    script,
    `http://${LOOPBACK}:${port}/`,
  ]);
}

/** One wrk run against a target, refused if any request failed. */
async function runWrk(target, seconds) {
  const output = await runToCompletion(
    wrkCommand(seconds, target.port, target.headers),
    (seconds + 10) * 1000,
  );
  const result = parseWrkResult(output);
  const problems = findRunProblems(result);
  if (problems.length > 0) fail(`${target.label}: ${problems.join('; ')}`);
  return result;
}

/** A measured run, with the CPU time the process wrk talks to spent while wrk ran. */
async function measure(target, round) {
  const cpuBefore = cpuSecondsOf(target.process.pid);
  const result = await runWrk(target, MEASURE_SECONDS);
  const cpuSeconds = cpuSecondsOf(target.process.pid) - cpuBefore;
  console.log(
    `round ${round + 1}/${rounds} ${target.label}: ${Math.round(result.requestsPerSecond)} requests/s, ` +
      `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, ` +
      `${((cpuSeconds / result.requests) * 1e6).toFixed(1)} µs CPU/request`,
  );
  return { result, cpuSeconds };
}

/** Share of each CPU's time stolen by the hypervisor between two /proc/stat readings. */
function stealShares(before, after) {
  return placement.cpus.map((cpu) => {
    const start = before.get(cpu);
    const end = after.get(cpu);
    if (start === undefined || end === undefined) throw new Error(`/proc/stat has no line for CPU ${cpu}`);
    return { cpu, share: (end.steal - start.steal) / (end.total - start.total) };
  });
}

function describeMachine() {
  // `wrk -v` prints `wrk <version> [epoll] Copyright …` and exits with status 1.
  const wrkVersion = spawnSync(WRK, ['-v'], { encoding: 'utf8', timeout: 5000 }).stdout.split(' ')[1];
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `\`nproc\` = ${os.availableParallelism()} (${cpu}), Node ${process.version}, wrk ${wrkVersion}, ${os.type()} ${os.release()}`;
}

/** The scripts of the two http-proxy baselines, started alike. */
const HTTP_PROXY_SCRIPTS = { bare: 'bare-http-proxy.js', keepAlive: 'keepalive-http-proxy.js' };

/** How the targets were started and measured, with the command lines as run (ports left out). */
function describeSetup() {
  const where =
    placement.proxyCpu === undefined
      ? `Not CPU-pinned (${placement.reason}): wrk, the upstream and the proxies share the CPUs.`
      : `Pinned with \`taskset\`: the proxy under test alone on CPU ${placement.proxyCpu}, ` +
        `wrk and the upstream on CPU ${placement.loadCpu}.`;
  const node = (cpu, args) => `\`${describeCommand(onCpu(cpu, process.execPath, args))}\``;
  const shortNames = {
    bare: 'bare',
    keepAlive: 'keep-alive-tuned',
    gatehouse: 'Gatehouse public',
    signedIn: 'Gatehouse signed-in',
  };
  const describeOrder = (round) =>
    measurementOrder(round)
      .map((name) => shortNames[name])
      .join(', ');
  const orders = [0, 1, 2].map((round) => `round ${round + 1}: ${describeOrder(round)}`);
  const wrk = (headers) => `\`${describeCommand(wrkCommand(MEASURE_SECONDS, '<port>', headers))}\``;
  const httpProxyCommand = (proxy) =>
    node(placement.proxyCpu, [
      `bench/load/${HTTP_PROXY_SCRIPTS[proxy]}`,
      `http://${LOOPBACK}:<port>`,
      '<port>',
    ]);
  return [
    where,
    '',
    `After one ${WARM_UP_SECONDS} s warm-up of each target, ${rounds} round${rounds === 1 ? '' : 's'}, each measuring the ` +
      `direct upstream, then the three proxies one after another in an order rotated every round, ` +
      "Gatehouse's public and signed-in routes back to back, in turn one first and then the other " +
      `(${orders.join('; ')}; and so on), ${MEASURE_SECONDS} s each. Latencies are the medians of each ` +
      "round's percentile. CPU time per request is the utime + stime of the process wrk talks to " +
      '(`/proc/<pid>/stat`, before and after each run) over the requests wrk completed; CPU use is that ' +
      "CPU time over the run's duration.",
    '',
    `- wrk: ${wrk(PUBLIC_HEADERS)}`,
    `- wrk, ${TARGET_LABELS.signedIn}: ${wrk({ Host: SIGNED_IN_HOST, [TOKEN_HEADER]: '<token>' })}`,
    `- upstream: ${node(placement.loadCpu, ['bench/load/upstream.js', '<port>'])}`,
    `- ${TARGET_LABELS.bare}: ${httpProxyCommand('bare')}`,
    `- ${TARGET_LABELS.keepAlive}: ${httpProxyCommand('keepAlive')}`,
    `- Gatehouse, both routes: ${node(placement.proxyCpu, ['dist/cli.js', '--config', '<generated>.yaml'])}, ` +
      `access log to a file; sessions in Redis (\`${REDIS_URL}\`, a key prefix of its own per run); ` +
      `\`<token>\`: a session created by the benchmark with Gatehouse's session service (bench/load/session.js).`,
  ].join('\n');
}

async function main() {
  requireFile(WRK, constants.X_OK, "Install Debian's wrk package: apt-get install -y wrk");
  requireFile(
    gatehouseCli,
    constants.R_OK,
    'Build first: `npm run bench` runs `npm run build` before this script.',
  );
  if (!(clockTicksPerSecond > 0)) fail('`getconf CLK_TCK` did not print the clock tick rate');
  if (spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(
      "redis-cli is missing (apt-get install -y redis-tools): it deletes the run's Redis keys at the end.",
    );
  }
  // Fail now rather than after minutes of measuring if the README lost its markers.
  replaceFigures(readFileSync(readmePath, 'utf8'), '');

  // The session first: without Redis there is no point starting anything.
  hasRedisKeys = true;
  const session = await createBenchSession({ repoRoot, identity, ttlMs: SESSION_TTL_MS }).catch((error) =>
    fail(`could not create the signed-in target's session in Redis at ${REDIS_URL}: ${error.message}`),
  );

  const [upstreamPort, barePort, keepAlivePort, gatehousePort] = await findFreePorts(4);
  const upstreamUrl = `http://${LOOPBACK}:${upstreamPort}`;

  const upstream = startProcess('upstream', placement.loadCpu, [
    path.join(loadDir, 'upstream.js'),
    String(upstreamPort),
  ]);
  await waitUntilAnswers(upstream, upstreamPort, '/');

  const startHttpProxy = async (proxy, port) => {
    const started = startProcess(TARGET_LABELS[proxy], placement.proxyCpu, [
      path.join(loadDir, HTTP_PROXY_SCRIPTS[proxy]),
      upstreamUrl,
      String(port),
    ]);
    await waitUntilAnswers(started, port, '/');
    return started;
  };
  const bare = await startHttpProxy('bare', barePort);
  const keepAlive = await startHttpProxy('keepAlive', keepAlivePort);

  const configPath = path.join(workDir, 'gatehouse.yaml');
  writeFileSync(configPath, gatehouseConfig(gatehousePort, upstreamPort));
  // The access log is written as in production, to a file: its cost is part of what is measured. Only
  // PATH is passed on, because every config key can be overridden by an environment variable.
  const accessLog = openSync(path.join(workDir, 'gatehouse.log'), 'w');
  const gatehouse = startProcess('Gatehouse', placement.proxyCpu, [gatehouseCli, '--config', configPath], {
    stdout: accessLog,
    env: { PATH: process.env.PATH ?? '' },
  });
  await waitUntilAnswers(gatehouse, gatehousePort, '/ping');
  for (const started of [upstream, bare, keepAlive, gatehouse]) checkPlacement(started);

  const makeTarget = (name, port, started, headers = PUBLIC_HEADERS) => ({
    label: TARGET_LABELS[name],
    port,
    process: started,
    headers,
  });
  const targets = {
    direct: makeTarget('direct', upstreamPort, upstream),
    bare: makeTarget('bare', barePort, bare),
    keepAlive: makeTarget('keepAlive', keepAlivePort, keepAlive),
    gatehouse: makeTarget('gatehouse', gatehousePort, gatehouse),
    // The same process as the public route, so that the two differ only in the request path.
    signedIn: makeTarget('signedIn', gatehousePort, gatehouse, {
      Host: SIGNED_IN_HOST,
      [TOKEN_HEADER]: session.token,
    }),
  };
  for (const target of Object.values(targets)) await checkForwards(target);
  await checkRequiresSession(targets.signedIn);
  for (const target of Object.values(targets)) await runWrk(target, WARM_UP_SECONDS);

  // Direct once per round: its rate is the load side's capacity, so it is checked under the same
  // conditions as the proxies it must outrun. Each round's proxies run back to back, seconds apart, so
  // their ratios compare them under much the same neighbours; their order rotates every round so that
  // none always runs first, and Gatehouse's two routes take turns going first.
  const runs = { direct: [], bare: [], keepAlive: [], gatehouse: [], signedIn: [] };
  const cpuTimesBefore = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  for (let round = 0; round < rounds; round += 1) {
    for (const name of ['direct', ...measurementOrder(round)]) {
      runs[name].push(await measure(targets[name], round));
    }
  }
  const steal = stealShares(cpuTimesBefore, parseCpuTimes(readFileSync('/proc/stat', 'utf8')));
  // Still signed in after the last run: every measured request was served with the session in place.
  await checkForwards(targets.signedIn);
  await session.close();

  const figures = renderFigures({
    date: new Date().toISOString().slice(0, 10),
    machine: describeMachine(),
    setup: describeSetup(),
    runs,
    steal,
    minimumRatioOverBare: MINIMUM_RATIO_OVER_BARE,
  });
  // Formatted as `npm run lint` expects (Prettier pads the table columns).
  const readme = replaceFigures(readFileSync(readmePath, 'utf8'), figures);
  const prettierOptions = await prettier.resolveConfig(readmePath);
  writeFileSync(readmePath, await prettier.format(readme, { ...prettierOptions, filepath: readmePath }));
  console.log(`\n${figures}\n\nWritten to bench/README.md.`);
}

main().then(
  () => process.exit(0),
  (error) => fail(error instanceof Error ? error.message : String(error)),
);
