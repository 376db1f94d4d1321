import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { formatProblem, parseConfig } from '../../src/config/parse.js';
import type { GatehouseConfig } from '../../src/config/schema.js';
import { createGatehouseServer, type GatehouseServer } from '../../src/server/gatehouse-server.js';
import { createLogger } from '../../src/shared/logger.js';

export interface TestGatehouse {
  readonly url: URL;
  readonly port: number;
  readonly server: GatehouseServer;
  /** Every JSON log line written so far. */
  readonly logs: Record<string, unknown>[];
  /** Applies a new YAML config (throws when it is invalid). */
  reload(yaml: string): void;
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
  const server = createGatehouseServer({ config, logger, shutdownGraceMs: 2000 });
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
