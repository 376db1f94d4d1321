import { describe, expect, it } from 'vitest';
import { toClientResponseHeaders } from './response-headers.js';

describe('toClientResponseHeaders', () => {
  it('removes hop-by-hop headers and the names Connection lists', () => {
    expect(
      toClientResponseHeaders({
        connection: 'keep-alive, x-internal',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        trailer: 'x-checksum',
        upgrade: 'h2c',
        'x-internal': 'secret',
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
      }),
    ).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('keeps a header named __proto__ as a plain key', () => {
    const headers = toClientResponseHeaders(
      JSON.parse('{"__proto__": "x", "etag": "1"}') as Record<string, string>,
    );
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);
    expect(headers.etag).toBe('1');
  });
});
