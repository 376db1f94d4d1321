// Load benchmark: the same small JSON answer fetched directly from the upstream, through a bare
// http-proxy script, and through Gatehouse, each measured by wrk in one run on loopback. Writes the
// figures into bench/README.md between its markers. Run with `npm run bench` (it builds dist/ first).
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
import { findRunProblems, parseWrkResult, renderFigures, replaceFigures } from './report.js';

const WRK = '/usr/bin/wrk';
// Loopback only: the benchmark never listens on or connects to any other address.
const LOOPBACK = '127.0.0.1';
const WARM_UP_SECONDS = 2;
const MEASURE_SECONDS = 10;
const MINIMUM_RATIO_OVER_BARE = 1.3;
const STARTUP_TIMEOUT_MS = 15_000;
// Three warm-ups and three measurements plus start-up; anything longer means something hangs.
const WHOLE_RUN_TIMEOUT_MS = 3 * (WARM_UP_SECONDS + MEASURE_SECONDS) * 1000 + 60_000;
const EXPECTED_BODY = JSON.stringify({ message: 'HELLO WORLD' });

const loadDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(loadDir, '../..');
const readmePath = path.join(repoRoot, 'bench/README.md');
const gatehouseCli = path.join(repoRoot, 'dist/cli.js');

/** Every process this script started; all are killed however the script ends. */
const children = new Set();
const workDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
setTimeout(() => fail(`gave up after ${WHOLE_RUN_TIMEOUT_MS / 1000} s`), WHOLE_RUN_TIMEOUT_MS).unref();

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function requireFile(file, mode, hint) {
  try {
    accessSync(file, mode);
  } catch {
    fail(`${file} is missing. ${hint}`);
  }
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

/** Starts a long-running child; `exited` rejects if it stops before this script is done with it. */
function startProcess(name, args, { stdout = 'ignore', env = process.env } = {}) {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', stdout, 'pipe'] });
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
  return { name, exited };
}

/** Runs a command to completion within a time limit and returns its stdout. */
function runToCompletion(command, args, timeoutMs) {
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

/** One GET on loopback with `Host: localhost`, without keep-alive; resolves with status and body. */
function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: LOOPBACK, port, path: urlPath, headers: { host: 'localhost' }, agent: false, timeout: 2000 },
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
async function checkForwards(label, port) {
  const { status, body } = await get(port, '/');
  if (status !== 200 || body !== EXPECTED_BODY) {
    fail(`${label} answered ${status} ${JSON.stringify(body.slice(0, 200))} instead of the upstream's body`);
  }
}

function gatehouseConfig(gatehousePort, upstreamPort) {
  return [
    'insecure_server: true',
    `address: ${LOOPBACK}:${gatehousePort}`,
    'log_level: info',
    'routes:',
    '  - from: http://localhost',
    '    prefix: /',
    `    to: http://${LOOPBACK}:${upstreamPort}`,
    '    allow_public_unauthenticated_access: true',
    '',
  ].join('\n');
}

function wrkArgs(seconds, port) {
  const script = path.join(loadDir, 'report.lua');
  return [
    '-t1',
    '-c50',
    `-d${seconds}s`,
    '-H',
    'Host: localhost',
    '-s',
    script,
    `http://${LOOPBACK}:${port}/`,
  ];
}

async function measure(label, port) {
  const limitMs = (seconds) => (seconds + 10) * 1000;
  await runToCompletion(WRK, wrkArgs(WARM_UP_SECONDS, port), limitMs(WARM_UP_SECONDS));
  const result = parseWrkResult(
    await runToCompletion(WRK, wrkArgs(MEASURE_SECONDS, port), limitMs(MEASURE_SECONDS)),
  );
  const problems = findRunProblems(result);
  if (problems.length > 0) fail(`${label}: ${problems.join('; ')}`);
  console.log(
    `${label}: ${Math.round(result.requestsPerSecond)} requests/s, ` +
      `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms`,
  );
  return result;
}

function describeMachine() {
  // `wrk -v` prints `wrk <version> [epoll] Copyright …` and exits with status 1.
  const wrkVersion = spawnSync(WRK, ['-v'], { encoding: 'utf8', timeout: 5000 }).stdout.split(' ')[1];
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `\`nproc\` = ${os.availableParallelism()} (${cpu}), Node ${process.version}, wrk ${wrkVersion}, ${os.type()} ${os.release()}`;
}

async function main() {
  requireFile(WRK, constants.X_OK, "Install Debian's wrk package: apt-get install -y wrk");
  requireFile(
    gatehouseCli,
    constants.R_OK,
    'Build first: `npm run bench` runs `npm run build` before this script.',
  );
  // Fail now rather than after a minute of measuring if the README lost its markers.
  replaceFigures(readFileSync(readmePath, 'utf8'), '');

  const [upstreamPort, barePort, gatehousePort] = await findFreePorts(3);
  const upstreamUrl = `http://${LOOPBACK}:${upstreamPort}`;

  const upstream = startProcess('upstream', [path.join(loadDir, 'upstream.js'), String(upstreamPort)]);
  await waitUntilAnswers(upstream, upstreamPort, '/');

  const bare = startProcess('bare http-proxy', [
    path.join(loadDir, 'bare-http-proxy.js'),
    upstreamUrl,
    String(barePort),
  ]);
  await waitUntilAnswers(bare, barePort, '/');

  const configPath = path.join(workDir, 'gatehouse.yaml');
  writeFileSync(configPath, gatehouseConfig(gatehousePort, upstreamPort));
  // The access log is written as in production, to a file: its cost is part of what is measured. Only
  // PATH is passed on, because every config key can be overridden by an environment variable.
  const accessLog = openSync(path.join(workDir, 'gatehouse.log'), 'w');
  const gatehouse = startProcess('Gatehouse', [gatehouseCli, '--config', configPath], {
    stdout: accessLog,
    env: { PATH: process.env.PATH ?? '' },
  });
  await waitUntilAnswers(gatehouse, gatehousePort, '/ping');

  const targets = [
    { target: 'direct', label: 'direct upstream', port: upstreamPort },
    { target: 'bare', label: 'bare http-proxy', port: barePort },
    { target: 'gatehouse', label: 'Gatehouse', port: gatehousePort },
  ];
  for (const { label, port } of targets) await checkForwards(label, port);

  const rows = [];
  for (const { target, label, port } of targets) {
    rows.push({ target, label, result: await measure(label, port) });
  }

  const figures = renderFigures({
    date: new Date().toISOString().slice(0, 10),
    machine: describeMachine(),
    command: `wrk ${wrkArgs(MEASURE_SECONDS, '<port>')
      .map((arg) => (arg.includes(' ') ? `'${arg}'` : arg))
      .join(' ')
      .replace(loadDir, 'bench/load')}`,
    rows,
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
