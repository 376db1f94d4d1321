import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { formatProblem, parseConfig } from '../../src/config/parse.js';
import type { GatehouseConfig } from '../../src/config/schema.js';
import { createGatehouseServer, type GatehouseServer } from '../../src/server/gatehouse-server.js';
import { createLogger } from '../../src/shared/logger.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from './upstream.js';

export interface TestGatehouse {
  readonly url: URL;
  readonly port: number;
  readonly server: GatehouseServer;
  /** Every JSON log line written so far. */
  readonly logs: Record<string, unknown>[];
  /** Applies a new YAML config (throws when it is invalid). */
  reload(yaml: string): Promise<void>;
  close(): Promise<void>;
}

/** Parses YAML through the real config parser; throws with every problem when it is invalid. */
export function configFromYaml(yaml: string, env: Record<string, string> = {}): GatehouseConfig {
  const result = parseConfig({
    text: yaml,
    fileName: 'test.yaml',
    env,
    readFile: (path) => readFileSync(path, 'utf8'),
  });
  if (!result.ok) throw new Error(`invalid test config:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.config;
}

/**
 * A real Gatehouse server in this process on 127.0.0.1:0, logging into memory so tests can read the
 * access log. The YAML should not set `address`; plain HTTP is the default here unless it says otherwise.
 */
export async function startGatehouse(yaml: string, env: Record<string, string> = {}): Promise<TestGatehouse> {
  const config = configFromYaml(yaml, { ADDRESS: '127.0.0.1:0', ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const server = await createGatehouseServer({ config, logger, shutdownGraceMs: 2000 });
  const url = await server.listen();
  return {
    url,
    port: Number(url.port),
    server,
    logs,
    reload: (next) => server.reload(configFromYaml(next, { ADDRESS: '127.0.0.1:0', ...env })),
    close: () => server.close(),
  };
}

/**
 * One route as a YAML list item, public so that tests of routing and proxying need no sign-in. `extra` is
 * more route keys, each line indented by four spaces (`'    prefix: /api\n'`).
 */
export function publicRoute(from: string, to: string, extra = ''): string {
  return `  - from: ${from}\n    to: ${to}\n    allow_public_unauthenticated_access: true\n${extra}`;
}

/** A config served over plain HTTP (`insecure_server: true`) with these routes, in this order. */
export function plainHttpConfig(...routes: readonly string[]): string {
  return `insecure_server: true\nroutes:\n${routes.join('')}`;
}

export interface GatehouseInFront {
  readonly upstream: TestUpstream;
  readonly gatehouse: TestGatehouse;
}

/**
 * Registers `beforeAll` and `afterAll` hooks in the calling `describe` (or file): they start an upstream
 * (`handler`, or the JSON echo) and a Gatehouse configured by `config(upstream.url)`, and close both. Read
 * `.upstream` and `.gatehouse` inside tests, once the hook has run.
 */
export function gatehouseInFront(
  config: (upstreamUrl: string) => string,
  handler?: UpstreamHandler,
): GatehouseInFront {
  let upstream: TestUpstream | undefined;
  let gatehouse: TestGatehouse | undefined;
  beforeAll(async () => {
    upstream = await startUpstream(handler);
    gatehouse = await startGatehouse(config(upstream.url));
  });
  afterAll(async () => {
    await gatehouse?.close();
    await upstream?.close();
  });
  return {
    get upstream() {
      if (!upstream) throw new TypeError('the upstream starts in beforeAll: read it inside a test');
      return upstream;
    },
    get gatehouse() {
      if (!gatehouse) throw new TypeError('Gatehouse starts in beforeAll: read it inside a test');
      return gatehouse;
    },
  };
}
