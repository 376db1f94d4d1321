import { describe, expect, it } from 'vitest';
import { formatPath, formatProblem } from './problem.js';

describe('formatPath', () => {
  it('writes list indexes in brackets and keys with dots', () => {
    expect(formatPath(['routes', 2, 'to', 0])).toBe('routes[2].to[0]');
    expect(formatPath(['log_level'])).toBe('log_level');
    expect(formatPath([])).toBe('');
  });

  it('quotes keys that are not plain words', () => {
    expect(formatPath(['routes', 0, 'set_request_headers', 'a b'])).toBe(
      'routes[0].set_request_headers["a b"]',
    );
  });
});

describe('formatProblem', () => {
  it('puts the path before the message', () => {
    expect(formatProblem({ path: 'routes[2].from', message: 'is required' })).toBe(
      'routes[2].from: is required',
    );
  });

  it('shows only the message for a problem with the whole file', () => {
    expect(formatProblem({ path: '', message: 'gatehouse.yaml line 1, column 2: bad' })).toBe(
      'gatehouse.yaml line 1, column 2: bad',
    );
  });
});
