import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { toUpstreamError } from './upstream-error.js';

function failure(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('toUpstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'ERR_UPSTREAM_UNAVAILABLE', 502],
    ['ENOTFOUND', 'ERR_UPSTREAM_UNAVAILABLE', 502],
    ['EHOSTUNREACH', 'ERR_UPSTREAM_UNAVAILABLE', 502],
    ['UND_ERR_CLOSED', 'ERR_UPSTREAM_UNAVAILABLE', 502],
    ['ECONNRESET', 'ERR_UPSTREAM_RESET', 502],
    ['UND_ERR_SOCKET', 'ERR_UPSTREAM_RESET', 502],
    ['HPE_INVALID_CONSTANT', 'ERR_UPSTREAM_RESET', 502],
    ['UND_ERR_HEADERS_TIMEOUT', 'ERR_UPSTREAM_TIMEOUT', 504],
    ['UND_ERR_CONNECT_TIMEOUT', 'ERR_UPSTREAM_TIMEOUT', 504],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_UPSTREAM_TLS', 502],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_UPSTREAM_TLS', 502],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_UPSTREAM_TLS', 502],
    ['UND_ERR_INVALID_ARG', 'ERR_INTERNAL', 500],
  ])('translates %s to %s', (code, expected, status) => {
    const original = failure(code);
    const error = toUpstreamError(original);
    expect(error.code).toBe(expected);
    expect(error.status).toBe(status);
    expect(error.cause).toBe(original);
    expect(error.expose).toBe(false);
    expect(error.message).not.toContain(code);
  });

  it('finds the code of a failed happy-eyeballs connect inside an AggregateError', () => {
    const error = new AggregateError([failure('ECONNREFUSED'), failure('ECONNREFUSED')], 'connect failed');
    expect(toUpstreamError(error).code).toBe('ERR_UPSTREAM_UNAVAILABLE');
  });

  it('follows the cause chain', () => {
    const wrapped = new TypeError('fetch failed', { cause: failure('CERT_HAS_EXPIRED') });
    expect(toUpstreamError(wrapped).code).toBe('ERR_UPSTREAM_TLS');
  });

  it('returns a GatehouseError unchanged', () => {
    const error = new GatehouseError('ERR_REQUEST_TIMEOUT', 'stalled');
    expect(toUpstreamError(error)).toBe(error);
  });

  it('treats errors that say nothing about the upstream as internal', () => {
    expect(toUpstreamError(new TypeError('bug')).code).toBe('ERR_INTERNAL');
    expect(toUpstreamError('a string').code).toBe('ERR_INTERNAL');
  });
});
