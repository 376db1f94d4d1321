import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildClearCsrfCookie,
  buildClearSessionCookies,
  buildCsrfCookie,
  buildSessionCookies,
  checkSessionCookieSettings,
  cookieDomainFor,
  defaultSessionCookieSettings,
  readSessionCookie,
  removeCookie,
  type SessionCookieRead,
  type SessionCookieSettings,
} from './session-cookie.js';

interface CookieHeaderFixture {
  name: string;
  removeNames: string[];
  cases: { name: string; header: string; read: SessionCookieRead; removed: string | null }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/tokens/cookie-headers.json', import.meta.url), 'utf8'),
) as CookieHeaderFixture;

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJl';
const NOW = 1_000_000_000_000;
const shared: SessionCookieSettings = { ...defaultSessionCookieSettings, domain: '.example.com' };

const attributes = (setCookie: string) => setCookie.split('; ');
/** The cookie carrying the session, the last of the values to send. */
const cookieFor = (settings: SessionCookieSettings, host = 'app.example.com') =>
  buildSessionCookies({ token: TOKEN, expiresAt: NOW + 3_600_000, now: NOW, host }, settings).at(-1) ?? '';

describe('readSessionCookie', () => {
  it.each(fixture.cases)('reads $name', ({ header, read }) => {
    expect(readSessionCookie(header, fixture.name)).toEqual(read);
  });

  it('finds nothing when there is no Cookie header', () => {
    expect(readSessionCookie(undefined, '_pomerium')).toEqual({ kind: 'absent' });
  });
});

describe('removeCookie', () => {
  it.each(fixture.cases)('cuts Gatehouse cookies out of $name', ({ header, removed }) => {
    expect(removeCookie(header, fixture.removeNames) ?? null).toBe(removed);
  });

  it('leaves no header when there was none', () => {
    expect(removeCookie(undefined, ['_pomerium'])).toBeUndefined();
  });
});

describe('buildSessionCookies', () => {
  it('sets a secure, HttpOnly, SameSite=Lax, host-only cookie for the whole host by default', () => {
    expect(cookieFor(defaultSessionCookieSettings)).toBe(
      `_pomerium=${TOKEN}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`,
    );
  });

  it('shares the cookie across cookie_domain when the host is inside it', () => {
    expect(attributes(cookieFor(shared))).toContain('Domain=example.com');
    expect(attributes(cookieFor(shared, 'example.com'))).toContain('Domain=example.com');
    expect(attributes(cookieFor(shared, 'API.Example.com:8443'))).toContain('Domain=example.com');
  });

  it('sends only the session cookie when it is host-only', () => {
    expect(
      buildSessionCookies(
        { token: TOKEN, expiresAt: NOW + 3_600_000, now: NOW, host: 'a.example.org' },
        shared,
      ),
    ).toHaveLength(1);
  });

  it('clears a host-only cookie left from before cookie_domain, before setting the shared one', () => {
    const values = buildSessionCookies(
      { token: TOKEN, expiresAt: NOW + 3_600_000, now: NOW, host: 'app.example.com' },
      shared,
    );
    expect(values).toEqual([
      '_pomerium=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
      `_pomerium=${TOKEN}; Max-Age=3600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax`,
    ]);
  });

  it('sets a host-only cookie on a host outside cookie_domain', () => {
    for (const host of [
      'app.example.org',
      'evilexample.com',
      'example.com.evil.net',
      '127.0.0.1',
      '[::1]:8443',
    ]) {
      expect(cookieFor(shared, host)).not.toContain('Domain=');
    }
  });

  it('follows the configured attributes', () => {
    const settings: SessionCookieSettings = {
      name: 'session',
      httpOnly: false,
      secure: false,
      sameSite: 'strict',
    };
    expect(cookieFor(settings)).toBe(`session=${TOKEN}; Max-Age=3600; Path=/; SameSite=Strict`);
    expect(attributes(cookieFor({ ...defaultSessionCookieSettings, sameSite: 'none' }))).toEqual(
      expect.arrayContaining(['Secure', 'SameSite=None']),
    );
  });

  it('lets the cookie run out no later than the session', () => {
    const [setCookie] = buildSessionCookies(
      { token: TOKEN, expiresAt: NOW + 90_999, now: NOW, host: 'app.example.com' },
      defaultSessionCookieSettings,
    );
    expect(attributes(setCookie ?? '')).toContain('Max-Age=90');
  });

  it.each([
    ['CR LF', `${TOKEN}\r\nSet-Cookie: admin=1`],
    ['a semicolon', `${TOKEN}; Domain=evil.com`],
    ['a space', `${TOKEN} x`],
    ['a quote', `"${TOKEN}"`],
    ['nothing', ''],
  ])('refuses a value with %s', (_label, token) => {
    expect(() =>
      buildSessionCookies(
        { token, expiresAt: NOW + 3_600_000, now: NOW, host: 'a' },
        defaultSessionCookieSettings,
      ),
    ).toThrow(TypeError);
  });

  it('refuses a session that expires within the second', () => {
    expect(() =>
      buildSessionCookies(
        { token: TOKEN, expiresAt: NOW + 999, now: NOW, host: 'a' },
        defaultSessionCookieSettings,
      ),
    ).toThrow(TypeError);
  });

  it('refuses SameSite=None without Secure, which browsers would drop', () => {
    expect(() => cookieFor({ ...defaultSessionCookieSettings, sameSite: 'none', secure: false })).toThrow(
      TypeError,
    );
  });
});

describe('buildClearSessionCookies', () => {
  it('clears the host-only cookie on a host outside cookie_domain', () => {
    expect(buildClearSessionCookies('app.example.org', shared)).toEqual([
      '_pomerium=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('clears both the host-only and the domain cookie inside cookie_domain', () => {
    const cleared = buildClearSessionCookies('app.example.com', shared);
    expect(cleared).toHaveLength(2);
    expect(cleared[0]).not.toContain('Domain=');
    expect(attributes(cleared[1] ?? '')).toEqual(
      expect.arrayContaining(['_pomerium=', 'Max-Age=0', 'Domain=example.com']),
    );
  });
});

describe('cookieDomainFor', () => {
  it('is undefined without cookie_domain', () => {
    expect(cookieDomainFor(defaultSessionCookieSettings, 'app.example.com')).toBeUndefined();
  });

  it('ignores the leading dot and case of cookie_domain', () => {
    expect(cookieDomainFor({ ...shared, domain: 'Example.COM' }, 'a.b.example.com')).toBe('example.com');
  });
});

describe('checkSessionCookieSettings', () => {
  it('finds nothing wrong with the defaults or a shared domain', () => {
    expect(checkSessionCookieSettings(defaultSessionCookieSettings)).toEqual([]);
    expect(checkSessionCookieSettings(shared)).toEqual([]);
  });

  it.each<[string, Partial<SessionCookieSettings>, string]>([
    ['a name with a separator', { name: '_pomerium;x' }, 'cookie_name'],
    ['a name with a space', { name: 'my session' }, 'cookie_name'],
    ['a domain with CR LF', { domain: 'example.com\r\nX: y' }, 'cookie_domain'],
    ['a domain with a port', { domain: 'example.com:443' }, 'cookie_domain'],
    ['an IP address domain', { domain: '10.0.0.1' }, 'cookie_domain'],
    ['an empty domain', { domain: '' }, 'cookie_domain'],
    ['SameSite=None over http', { sameSite: 'none', secure: false }, 'cookie_same_site'],
    ['a __Secure- name over http', { name: '__Secure-session', secure: false }, '__Secure-'],
    ['a __Host- name with a domain', { name: '__Host-session', domain: 'example.com' }, '__Host-'],
  ])('reports %s', (_label, change, message) => {
    const problems = checkSessionCookieSettings({ ...defaultSessionCookieSettings, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });
});

describe('buildCsrfCookie', () => {
  const CALLBACK = '/oauth2/callback';
  const csrf = { name: '_pomerium_csrf_q7Jx0cWm', value: 'x3Tq_9-Zk1vB8nLp', maxAgeSeconds: 600 };

  it('binds a sign-in to this browser: HttpOnly, Secure, SameSite=Lax, sent only to the callback', () => {
    expect(buildCsrfCookie(csrf, true, CALLBACK)).toBe(
      '_pomerium_csrf_q7Jx0cWm=x3Tq_9-Zk1vB8nLp; Max-Age=600; Path=/oauth2/callback; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('leaves out Secure only when cookie_secure is off (development over http)', () => {
    expect(attributes(buildCsrfCookie(csrf, false, CALLBACK))).toEqual([
      '_pomerium_csrf_q7Jx0cWm=x3Tq_9-Zk1vB8nLp',
      'Max-Age=600',
      'Path=/oauth2/callback',
      'HttpOnly',
      'SameSite=Lax',
    ]);
  });

  it('is host-only, whatever cookie_domain says', () => {
    expect(buildCsrfCookie(csrf, true, CALLBACK)).not.toContain('Domain=');
  });

  it.each([
    ['CR LF', 'abc\r\nSet-Cookie: admin=1'],
    ['a semicolon', 'abc; Domain=evil.example'],
    ['a space', 'abc def'],
    ['a comma', 'abc,def'],
    ['a quote', '"abc"'],
    ['a backslash', 'abc\\def'],
  ])('refuses a value with %s', (_label, value) => {
    expect(() => buildCsrfCookie({ ...csrf, value }, true, CALLBACK)).toThrow(TypeError);
  });

  it('refuses a name or path that would add attributes', () => {
    expect(() => buildCsrfCookie({ ...csrf, name: 'a; Domain=evil.example' }, true, CALLBACK)).toThrow(
      TypeError,
    );
    expect(() => buildCsrfCookie(csrf, true, '/oauth2/callback; Domain=evil.example')).toThrow(TypeError);
  });
});

describe('buildClearCsrfCookie', () => {
  const CALLBACK = '/oauth2/callback';

  it('removes the cookie at once, for browsers that read Max-Age and those that read Expires', () => {
    expect(buildClearCsrfCookie('_pomerium_csrf_q7Jx0cWm', true, CALLBACK)).toBe(
      '_pomerium_csrf_q7Jx0cWm=; Max-Age=0; Path=/oauth2/callback; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('matches the cookie it removes in name, path and Secure, so the browser replaces that one', () => {
    for (const secure of [true, false]) {
      const set = attributes(
        buildCsrfCookie({ name: 'csrf', value: 'v', maxAgeSeconds: 600 }, secure, CALLBACK),
      );
      const cleared = attributes(buildClearCsrfCookie('csrf', secure, CALLBACK));
      expect(cleared[0]).toBe('csrf=');
      expect(cleared.includes('Secure')).toBe(secure);
      const kept = (list: string[]) =>
        list.filter((attribute) => /^(Path|HttpOnly|Secure|SameSite)/.test(attribute));
      expect(kept(cleared)).toEqual(kept(set));
    }
  });

  it('refuses a name or path that would add attributes', () => {
    expect(() => buildClearCsrfCookie('a; Domain=evil.example', true, CALLBACK)).toThrow(TypeError);
    expect(() => buildClearCsrfCookie('csrf', true, '/x\r\nSet-Cookie: a=1')).toThrow(TypeError);
  });
});
