/**
 * The built `gatehouse` CLI as a child process, the way a user runs it: `node dist/cli.js …` with a clean
 * environment, output captured line by line, and every child killed by `killCliProcesses()` (or, with the
 * temporary config files too, `cleanUpCli()`: call it in `afterEach` or `afterAll`) so a failing test never
 * leaves a server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli.js');

const DEFAULT_WAIT_MS = 10_000;

/** Runs Gatehouse on 127.0.0.1 and a port the kernel picks, so test files never collide. */
export const FREE_PORT_ENV: Readonly<Record<string, string>> = { ADDRESS: '127.0.0.1:0' };

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliResult extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Added to a minimal environment (PATH only), so the runner's own variables cannot act as overrides. */
  readonly env?: Record<string, string>;
}

type StreamName = 'stdout' | 'stderr';

export interface CliProcess {
  readonly pid: number;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  output(stream: StreamName): string;
  /** Resolves with the first complete line matching `pattern`; rejects on exit or timeout, with the output. */
  waitForLine(stream: StreamName, pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The stdout lines that are JSON log records. */
  logs(): Record<string, unknown>[];
  /** Resident memory in bytes, from /proc/<pid>/status. */
  vmRssBytes(): number;
  kill(signal: NodeJS.Signals): void;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export interface ListeningCli extends CliProcess {
  /** From the `gatehouse listening on URL` line. */
  readonly url: URL;
  readonly port: number;
}

// Checked on import, so a missing build fails every test file that uses the CLI (a throw in beforeAll
// would only mark its tests as skipped).
if (!existsSync(CLI_PATH)) {
  throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (\`npm test\` builds in pretest)`);
}

const running = new Set<ChildProcess>();

/** VmRSS of a Linux process in bytes. */
export function readVmRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The ids of the live processes whose parent is `pid`, from /proc/<id>/stat. */
export function childProcessIds(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}

/** Starts `node dist/cli.js ...args` and returns at once. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('the CLI process could not be started');
  const pid = child.pid;
  running.add(child);

  const text: Record<StreamName, string> = { stdout: '', stderr: '' };
  const lines: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[name].setEncoding('utf8');
    child[name].on('data', (chunk: string) => {
      text[name] += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines[name].push(...parts);
      notify();
    });
  }

  let status: ExitStatus | undefined;
  // 'close' rather than 'exit': by then both pipes are drained, so the output is complete.
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      status = { code, signal };
      running.delete(child);
      notify();
      resolve(status);
    });
  });

  const describe = () =>
    `exit ${status ? `${status.code ?? status.signal}` : '(running)'}\n--- stdout\n${text.stdout}\n--- stderr\n${text.stderr}`;

  const waitForLine = (stream: StreamName, pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines[stream].find((line) => pattern.test(line));
        if (found !== undefined) return finish(() => resolve(found));
        if (status)
          finish(() => reject(new Error(`exited before ${stream} showed ${pattern}; ${describe()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} on ${stream} in ${timeoutMs} ms; ${describe()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const kill = (signal: NodeJS.Signals) => {
    if (!status) child.kill(signal);
  };

  return {
    pid,
    exited,
    hasExited: () => status !== undefined,
    output: (stream) => text[stream],
    waitForLine,
    logs: () =>
      lines.stdout
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    vmRssBytes: () => readVmRssBytes(pid),
    kill,
    stop: (signal = 'SIGTERM') => {
      kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion (bounded, then killed) and returns its exit status and output. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = spawnCli(args, options);
  const timer = setTimeout(() => cli.kill('SIGKILL'), DEFAULT_WAIT_MS);
  const status = await cli.exited;
  clearTimeout(timer);
  return { ...status, stdout: cli.output('stdout'), stderr: cli.output('stderr') };
}

const LISTENING = /^gatehouse listening on (\S+)$/;

/** Starts the CLI in run mode and waits for `gatehouse listening on URL` on stderr. */
export async function startCli(args: readonly string[], options: CliOptions = {}): Promise<ListeningCli> {
  const cli = spawnCli(args, options);
  const line = await cli.waitForLine('stderr', LISTENING);
  const url = new URL(LISTENING.exec(line)?.[1] ?? '');
  return Object.assign(cli, { url, port: Number(url.port) });
}

/** Writes `yaml` to a temporary config file and runs `gatehouse --config FILE` on a free loopback port. */
export async function startCliWithConfig(
  yaml: string,
  env: Record<string, string> = {},
): Promise<ListeningCli & { readonly config: TempConfig }> {
  const config = tempConfig(yaml);
  const cli = await startCli(['--config', config.path], { env: { ...FREE_PORT_ENV, ...env } });
  return Object.assign(cli, { config });
}

/** SIGKILLs every CLI process still running and waits until each has exited. */
export async function killCliProcesses(): Promise<void> {
  const children = [...running];
  const exits = children.map((child) => new Promise((resolve) => child.once('close', resolve)));
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(exits);
}

export interface TempConfig {
  readonly dir: string;
  /** `<dir>/gatehouse.yaml`. */
  readonly path: string;
  /** Rewrites the file in place. */
  write(yaml: string): void;
  /** Writes a temporary file next to it and renames it over the config, as editors and Kubernetes do. */
  replace(yaml: string): void;
  remove(): void;
}

const temporaryConfigs = new Set<TempConfig>();

/** A config file in a fresh temporary directory, removed by `remove()` or `cleanUpCli()`. */
export function tempConfig(yaml: string): TempConfig {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(path, yaml);
  let replacements = 0;
  const config: TempConfig = {
    dir,
    path,
    write: (next) => writeFileSync(path, next),
    replace: (next) => {
      replacements += 1;
      const temporary = join(dir, `.gatehouse.yaml.${replacements}.tmp`);
      writeFileSync(temporary, next);
      renameSync(temporary, path);
    },
    remove: () => {
      temporaryConfigs.delete(config);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  temporaryConfigs.add(config);
  return config;
}

/** SIGKILLs every CLI process still running, waits for their exits, then removes every temporary config. */
export async function cleanUpCli(): Promise<void> {
  await killCliProcesses();
  for (const config of [...temporaryConfigs]) config.remove();
}

/** Calls `probe` until it returns true, at most `timeoutMs`; throws with `what` when it never does. */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
