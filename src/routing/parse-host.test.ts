import { describe, expect, it } from 'vitest';
import { parseHostHeader } from './parse-host.js';

describe('parseHostHeader', () => {
  it.each([
    ['example.com', 'example.com', undefined],
    ['App.Example.COM', 'app.example.com', undefined],
    ['example.com:8443', 'example.com', 8443],
    ['example.com.', 'example.com', undefined],
    ['example.com.:443', 'example.com', 443],
    ['localhost:1', 'localhost', 1],
    ['localhost:65535', 'localhost', 65535],
    ['x-1.a-b.example', 'x-1.a-b.example', undefined],
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['[::1]', '[::1]', undefined],
    ['[::1]:8080', '[::1]', 8080],
    ['[2001:DB8::1]:443', '[2001:db8::1]', 443],
    ['[0:0:0:0:0:0:0:1]', '[::1]', undefined],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`, undefined],
  ])('reads %j as host %j and port %j', (value, hostname, port) => {
    expect(parseHostHeader(value)).toEqual({ hostname, port });
  });

  it.each([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['a port alone', ':8080'],
    ['an empty port', 'example.com:'],
    ['port 0', 'example.com:0'],
    ['a port above 65535', 'example.com:65536'],
    ['a six-digit port', 'example.com:000080'],
    ['a signed port', 'example.com:+80'],
    ['a hex port', 'example.com:0x50'],
    ['two ports', 'example.com:80:80'],
    ['a space', 'example .com'],
    ['a trailing space', 'example.com '],
    ['user information', 'user@example.com'],
    ['a path', 'example.com/admin'],
    ['a backslash', 'example.com\\admin'],
    ['an empty label', 'a..example.com'],
    ['a leading dot', '.example.com'],
    ['two trailing dots', 'example.com..'],
    ['a lone dot', '.'],
    ['a label starting with a hyphen', '-a.example.com'],
    ['a label ending with a hyphen', 'a-.example.com'],
    ['a label longer than 63 characters', `${'a'.repeat(64)}.example.com`],
    ['a name longer than 253 characters', `${'abcdefghi.'.repeat(26)}com`],
    ['an underscore', 'my_host.example.com'],
    ['a wildcard', '*.example.com'],
    ['a non-ASCII name', 'exämple.com'],
    ['an IPv6 literal without brackets', '::1'],
    ['an unclosed IPv6 literal', '[::1'],
    ['an invalid IPv6 literal', '[::g]'],
    ['an IPv4 address in brackets', '[127.0.0.1]'],
    ['text after an IPv6 literal', '[::1]x'],
    ['an IPv6 zone identifier', '[fe80::1%25eth0]'],
  ])('refuses %s', (_description, value) => {
    expect(parseHostHeader(value)).toBeUndefined();
  });
});
