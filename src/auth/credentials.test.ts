import { describe, expect, it } from 'vitest';
import { extractCredential, isGatehouseAuthorization, type RequestHeaders } from './credentials.js';

const NAME = '_pomerium';
const extract = (headers: RequestHeaders) => extractCredential(headers, NAME);

describe('extractCredential', () => {
  it('finds nothing on a request without credentials', () => {
    expect(extract({ accept: 'text/html', cookie: 'theme=dark' })).toEqual({ kind: 'none' });
  });

  it.each<[string, RequestHeaders, string]>([
    ['the session cookie', { cookie: 'a=1; _pomerium=c.o.okie' }, 'cookie'],
    ['X-Pomerium-Authorization', { 'x-pomerium-authorization': 'h.e.ader' }, 'x-pomerium-authorization'],
    ['Authorization: Pomerium', { authorization: 'Pomerium a.u.th' }, 'authorization-pomerium'],
    [
      'Authorization: Bearer Pomerium-',
      { authorization: 'Bearer Pomerium-b.e.arer' },
      'authorization-bearer-pomerium',
    ],
  ])('reads %s', (_label, headers, source) => {
    const credential = extract(headers);
    expect(credential).toMatchObject({ kind: 'token', source });
    expect(credential.kind === 'token' && credential.token).toMatch(/^[a-z]+\.[a-z]+\.[a-z]+$/);
  });

  it('takes the cookie first, then X-Pomerium-Authorization, then Authorization', () => {
    const all = {
      cookie: '_pomerium=from.the.cookie',
      'x-pomerium-authorization': 'from.x.header',
      authorization: 'Pomerium from.authorization.header',
    };
    expect(extract(all)).toMatchObject({ source: 'cookie', token: 'from.the.cookie' });
    expect(extract({ ...all, cookie: 'other=1' })).toMatchObject({ source: 'x-pomerium-authorization' });
    expect(extract({ authorization: all.authorization })).toMatchObject({ source: 'authorization-pomerium' });
  });

  it('does not fall through to a header token when the cookie is ambiguous', () => {
    expect(
      extract({
        cookie: '_pomerium=a.b.c; _pomerium=d.e.f',
        'x-pomerium-authorization': 'good.header.token',
      }),
    ).toEqual({ kind: 'invalid', source: 'cookie', reason: '2 differing session cookies' });
  });

  it('does not fall through to Authorization when X-Pomerium-Authorization is empty', () => {
    expect(extract({ 'x-pomerium-authorization': '', authorization: 'Pomerium a.b.c' })).toMatchObject({
      kind: 'invalid',
      source: 'x-pomerium-authorization',
    });
  });

  it('reports an empty session cookie as invalid', () => {
    expect(extract({ cookie: '_pomerium=' })).toMatchObject({ kind: 'invalid', source: 'cookie' });
  });

  it('refuses X-Pomerium-Authorization sent twice', () => {
    expect(extract({ 'x-pomerium-authorization': ['a.b.c', 'd.e.f'] })).toMatchObject({ kind: 'invalid' });
  });

  it('reads a cookie header split over several fields (HTTP/2)', () => {
    expect(extract({ cookie: ['a=1', '_pomerium=x.y.z'] })).toMatchObject({
      source: 'cookie',
      token: 'x.y.z',
    });
  });

  it('reads the configured cookie name only', () => {
    expect(extractCredential({ cookie: '_pomerium=a.b.c; gh=d.e.f' }, 'gh')).toMatchObject({
      token: 'd.e.f',
    });
  });

  it.each(['pomerium a.b.c', 'POMERIUM   a.b.c', 'Pomerium a.b.c  '])(
    'reads the Pomerium scheme in any case and spacing: %j',
    (authorization) => {
      expect(extract({ authorization })).toMatchObject({ source: 'authorization-pomerium', token: 'a.b.c' });
    },
  );

  it.each(['bearer Pomerium-a.b.c', 'BEARER pomerium-a.b.c', 'Bearer  POMERIUM-a.b.c'])(
    'reads a Bearer Pomerium- token in any case: %j',
    (authorization) => {
      expect(extract({ authorization })).toMatchObject({
        source: 'authorization-bearer-pomerium',
        token: 'a.b.c',
      });
    },
  );

  it.each(['Pomerium', 'Pomerium   ', 'Bearer Pomerium-', 'Bearer Pomerium- '])(
    'reports a Gatehouse Authorization without a token as invalid: %j',
    (authorization) => {
      expect(extract({ authorization })).toMatchObject({ kind: 'invalid' });
    },
  );

  it.each([
    'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
    'Bearer Pomeriumx.y.z',
    'Basic dXNlcjpwYXNz',
    'Pomeriumx a.b.c',
    'Bearer',
    '',
  ])('leaves an upstream Authorization alone: %j', (authorization) => {
    expect(extract({ authorization })).toEqual({ kind: 'none' });
  });
});

describe('isGatehouseAuthorization', () => {
  it.each([
    ['Pomerium a.b.c', true],
    ['Bearer Pomerium-a.b.c', true],
    ['Pomerium', true],
    ['Bearer upstream-token', false],
    ['Basic dXNlcjpwYXNz', false],
  ])('%j → %s', (value, expected) => {
    expect(isGatehouseAuthorization(value)).toBe(expected);
  });
});
