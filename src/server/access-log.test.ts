import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../shared/logger.js';
import { logAccess } from './access-log.js';
import type { RequestContext } from './context.js';

/** A finished request as the pipeline leaves it, with only what the access line reads. */
function finishedRequest(): RequestContext {
  return {
    id: 'req-1',
    req: { method: 'GET', socket: { remoteAddress: '127.0.0.1' } },
    res: { headersSent: true, statusCode: 200, writableFinished: true },
    hostname: 'app.example.com',
    path: '/api/users',
    clientIp: '203.0.113.7',
    route: { route: { name: 'routes[0]' } },
    upstream: { origin: 'http://api:8080' },
    upgrade: undefined,
  } as unknown as RequestContext;
}

function linesAt(level: LogLevel): string[] {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  logAccess(logger, finishedRequest(), 12.345, 512);
  return lines;
}

describe('logAccess', () => {
  it('writes one JSON line with the request facts, framed like every other log line', () => {
    const [line, ...rest] = linesAt('info');
    expect(rest).toEqual([]);
    expect(JSON.parse(line ?? '')).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      request_id: 'req-1',
      method: 'GET',
      host: 'app.example.com',
      path: '/api/users',
      route: 'routes[0]',
      status: 200,
      duration_ms: 12.35,
      bytes: 512,
      upstream: 'http://api:8080',
      client_ip: '203.0.113.7',
      msg: 'request',
    });
  });

  it('writes nothing when the log level leaves out info lines', () => {
    expect(linesAt('warn')).toEqual([]);
  });
});
