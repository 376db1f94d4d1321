#!/usr/bin/env node
/**
 * `gatehouse` — run the proxy, check a config, or start the demo. Every user mistake ends in a message a
 * person can act on and a non-zero exit code, never a stack trace: 1 for a bad config or a failed start,
 * 2 for a wrong command line.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from './config/load.js';
import { formatProblem, parseConfig } from './config/parse.js';
import { renderConfigReference } from './config/reference.js';
import { summarizeConfig } from './config/summarize.js';
import { formatListenAddress, readListenAddress } from './config/address.js';
import { startDemoParts } from './demo/demo-setup.js';
import { startSampleApi } from './demo/sample-api.js';
import { InvalidConfigError, serve, serveOnWorkers } from './main.js';

const USAGE = `Usage:
  gatehouse --config FILE           run the proxy (or set GATEHOUSE_CONFIG=FILE)
  gatehouse check-config FILE       validate a config: list every problem, or summarize the routes
  gatehouse demo                    run the demo: sample API behind Gatehouse on http://localhost:8080
  gatehouse demo-upstream [--port N]  run only the sample API (used by docker-compose.yaml)
  gatehouse config-reference        print the reference of every config key (Markdown)
  gatehouse --version | --help

Every config key can be overridden by an environment variable of the same name in upper case
(ADDRESS=:9000, LOG_LEVEL=debug). Send SIGHUP or save the file to reload the config.
Docs: README.md and docs/ in the Gatehouse repository.`;

class UsageError extends Error {}

const DEMO_ADDRESS = '127.0.0.1:8080';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`gatehouse ${version()}\n`);
    return 0;
  }

  const [command, ...rest] = positionals;
  switch (command) {
    case undefined:
      return runProxy(values.config ?? process.env.GATEHOUSE_CONFIG);
    case 'check-config':
      return checkConfig(rest[0] ?? values.config ?? process.env.GATEHOUSE_CONFIG);
    case 'demo':
      return runDemo();
    case 'demo-upstream':
      return runDemoUpstream(values.port);
    case 'config-reference':
      process.stdout.write(renderConfigReference());
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function runProxy(configPath: string | undefined): Promise<number> {
  if (configPath === undefined) {
    throw new UsageError(
      'no config given: use --config FILE or GATEHOUSE_CONFIG=FILE (or try `gatehouse demo`)',
    );
  }
  await serveOnWorkers({
    loadConfig: () => loadConfigFile(configPath, process.env),
    watchPath: configPath,
    onListening: (url) => process.stderr.write(`gatehouse listening on ${url.href}\n`),
  });
  return -1;
}

function checkConfig(configPath: string | undefined): number {
  if (configPath === undefined) throw new UsageError('check-config needs a FILE');
  const result = loadConfigFile(configPath, process.env);
  for (const warning of result.warnings) process.stderr.write(`warning: ${formatProblem(warning)}\n`);
  if (!result.ok) {
    process.stderr.write(`${configPath}: ${result.problems.length} problem(s)\n`);
    for (const problem of result.problems) process.stderr.write(`  ${formatProblem(problem)}\n`);
    return 1;
  }
  process.stdout.write(`${configPath}: valid\n${summarizeConfig(result.config)}\n`);
  return 0;
}

/**
 * The demo: the sample API and the development IdP beside Gatehouse. `ADDRESS` may move it; port 0 means
 * a free port, fixed before Gatehouse starts because the IdP only returns users to a registered callback.
 */
async function runDemo(): Promise<number> {
  const asked = readListenAddress(process.env.ADDRESS ?? DEMO_ADDRESS, true);
  if (!asked.ok) throw new UsageError(`ADDRESS: ${asked.message}`);
  const parts = await startDemoParts(asked.value.port);
  const address = formatListenAddress({ ...asked.value, port: parts.port });
  const serving = serve({
    loadConfig: () =>
      parseConfig({
        text: parts.yaml,
        fileName: 'demo',
        env: { ...process.env, ADDRESS: address },
        readFile: (path) => readFileSync(path, 'utf8'),
      }),
    onListening: (url) =>
      process.stderr.write(
        `\nGatehouse demo is running. Open http://localhost:${url.port}/api/ in a browser\n` +
          `and sign in as alice@example.com or bob@contractor.example (the bundled development IdP).\n` +
          `http://localhost:${url.port}/public/ needs no sign-in; /admin/ lets only alice in;\n` +
          `http://localhost:${url.port}/app/ is a single-page app calling the API.\n` +
          `JSON access logs follow on stdout. Ctrl-C stops it.\n\n`,
      ),
    onStopped: () => parts.close(),
  });
  // Without Gatehouse the sample API and the IdP alone would keep the process alive.
  await serving.catch(async (error: unknown) => {
    await parts.close();
    throw error;
  });
  return -1;
}

async function runDemoUpstream(port: string | undefined): Promise<number> {
  const portNumber = Number(port ?? '8081');
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${port}"`);
  }
  const api = await startSampleApi(portNumber, '0.0.0.0');
  process.stderr.write(`sample API listening on port ${api.url.port}\n`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}

function explainStartFailure(error: unknown): string {
  if (error instanceof InvalidConfigError) {
    return `the configuration is invalid:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}`;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const address = (error as { address?: string; port?: number } | undefined) ?? {};
  if (code === 'EADDRINUSE') {
    return `cannot listen on ${address.address ?? ''}:${address.port ?? ''}: the port is already in use (set ADDRESS=host:port to use another)`;
  }
  if (code === 'EACCES') {
    return `cannot listen on port ${address.port ?? ''}: permission denied (ports below 1024 need privileges)`;
  }
  return error instanceof Error ? error.message : String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`gatehouse: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`gatehouse: ${explainStartFailure(error)}\n`);
    process.exitCode = 1;
  },
);
