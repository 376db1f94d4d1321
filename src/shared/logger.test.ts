import { describe, expect, it } from 'vitest';
import { createLogger, writeInfoFields } from './logger.js';

function loggerWithLines(fields?: Record<string, string | number>) {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const logger = createLogger({ level: 'info', destination, ...(fields === undefined ? {} : { fields }) });
  return { logger, lines };
}

describe('createLogger fields', () => {
  it('puts the fields right after time on pino lines and template lines alike', () => {
    const { logger, lines } = loggerWithLines({ worker: 2 });
    logger.info({ routes: 1 }, 'config reloaded');
    writeInfoFields(logger, 'request', '"status":200');
    expect(lines.map((line) => Object.keys(JSON.parse(line) as object))).toEqual([
      ['level', 'time', 'worker', 'routes', 'msg'],
      ['level', 'time', 'worker', 'status', 'msg'],
    ]);
    expect(lines.map((line) => (JSON.parse(line) as { worker: unknown }).worker)).toEqual([2, 2]);
  });

  it('adds nothing when no fields are given', () => {
    const { logger, lines } = loggerWithLines();
    writeInfoFields(logger, 'request', '"status":200');
    expect(Object.keys(JSON.parse(lines[0] ?? '') as object)).toEqual(['level', 'time', 'status', 'msg']);
  });
});
