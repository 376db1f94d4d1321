import { describe, expect, it } from 'vitest';
import { parseOriginEntry } from './cors-origins.js';

describe('parseOriginEntry: accepted', () => {
  it.each([
    ['https://app.example.com', 'https://app.example.com'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['HTTPS://APP.EXAMPLE.COM', 'https://app.example.com'],
    ['https://app.example.com:443', 'https://app.example.com'],
    ['http://app.example.com:80', 'http://app.example.com'],
    ['https://app.example.com:8443', 'https://app.example.com:8443'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
  ])('reads %s as the origin a browser sends, %s', (entry, origin) => {
    expect(parseOriginEntry(entry)).toEqual({ ok: true, value: { kind: 'exact', origin } });
  });

  it.each([
    ['https://*.example.com', 'https', '*.example.com', undefined],
    ['http://*.example.com', 'http', '*.example.com', undefined],
    ['HTTPS://*.Example.COM', 'https', '*.example.com', undefined],
    ['https://*.example.com:8443', 'https', '*.example.com', 8443],
    ['https://*.example.com:443', 'https', '*.example.com', undefined],
    ['http://*.example.com:80', 'http', '*.example.com', undefined],
    ['http://*.localhost:5173', 'http', '*.localhost', 5173],
  ])('reads %s as a label-aware pattern', (entry, scheme, host, port) => {
    expect(parseOriginEntry(entry)).toEqual({ ok: true, value: { kind: 'pattern', scheme, host, port } });
  });

  it('reads /…/ as a regular expression, its source between the slashes', () => {
    expect(parseOriginEntry('/^https://(a|b)\\.example\\.org$/')).toEqual({
      ok: true,
      value: { kind: 'regex', source: '^https://(a|b)\\.example\\.org$' },
    });
  });

  it('reads null and * literally', () => {
    expect(parseOriginEntry('null')).toEqual({ ok: true, value: { kind: 'null' } });
    expect(parseOriginEntry('*')).toEqual({ ok: true, value: { kind: 'any' } });
  });
});

describe('parseOriginEntry: refused', () => {
  it.each([
    [
      'a trailing slash',
      'https://app.example.com/',
      'must not end with "/": browsers send https://app.example.com',
    ],
    [
      'a path',
      'https://app.example.com/app',
      'must be only a scheme, host and port, like https://app.example.com',
    ],
    ['a query', 'https://app.example.com?x=1', 'must be only a scheme, host and port'],
    ['a fragment', 'https://app.example.com#top', 'must be only a scheme, host and port'],
    ['user info', 'https://user@app.example.com', 'must be only a scheme, host and port'],
    ['no scheme', 'app.example.com', 'is not an origin (https://app.example.com), a pattern'],
    ['a pattern without a scheme', '*.example.com', 'is not an origin'],
    ['another scheme', 'ftp://files.example.com', 'scheme "ftp" is not http or https'],
    ['a file: URL', 'file:///tmp', 'scheme "file" is not http or https'],
    ['an empty entry', '', 'is not an origin'],
    ['an empty regex', '//', 'is not a valid regular expression: it is empty'],
    ['an invalid regex', '/(a|b/', 'is not a valid regular expression'],
    ['a regex invalid in unicode mode', '/\\p{Nope}/', 'is not a valid regular expression'],
    [
      'a pattern over a name that is not a DNS name',
      'https://*.exa_mple.com',
      'is not a wildcard over a DNS name',
    ],
    ['a pattern over a label starting with -', 'https://*.-example.com', 'is not a wildcard over a DNS name'],
    ['a pattern with a trailing dot', 'https://*.example.com.', 'is not a wildcard over a DNS name'],
    ['a pattern with port 0', 'https://*.example.com:0', 'port 0 is out of range'],
    ['a pattern with a port past 65535', 'https://*.example.com:70000', 'port 70000 is out of range'],
    ['a pattern with a trailing slash', 'https://*.example.com/', 'must not end with "/"'],
    ['a wildcard inside a label', 'https://*example.com', 'may only have a wildcard as its first label'],
    [
      'a wildcard in a later label',
      'https://app.*.example.com',
      'may only have a wildcard as its first label',
    ],
    ['two wildcards', 'https://*.*.example.com', 'is not a wildcard over a DNS name'],
  ])('refuses %s (%j) saying why', (_note, entry, message) => {
    const parsed = parseOriginEntry(entry);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toContain(message);
  });
});
