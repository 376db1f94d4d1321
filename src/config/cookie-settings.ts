/**
 * The session cookie's settings and the rules they must follow (RFC 6265 and the browser rules of
 * RFC 6265bis), checked when the config loads; auth/session-cookie.ts writes and reads the cookie itself.
 */
import type { GatehouseConfig } from './schema.js';

export const DEFAULT_COOKIE_NAME = '_pomerium';

export type SameSite = 'lax' | 'strict' | 'none';

export interface SessionCookieSettings {
  /** `cookie_name`. */
  readonly name: string;
  /** `cookie_domain`: the session is shared by this domain and its subdomains. Absent: host-only. */
  readonly domain?: string;
  /** `cookie_http_only`. */
  readonly httpOnly: boolean;
  /** `cookie_secure`; false only for development over plain http. */
  readonly secure: boolean;
  /** `cookie_same_site`. */
  readonly sameSite: SameSite;
}

export const defaultSessionCookieSettings: SessionCookieSettings = {
  name: DEFAULT_COOKIE_NAME,
  httpOnly: true,
  secure: true,
  sameSite: 'lax',
};

/** RFC 6265 §4.1.1 cookie-name (an RFC 9110 token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A DNS name of letter-digit-hyphen labels: what RFC 6265 §5.2.3 can match against a request host. */
const DOMAIN = /^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
export const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** `cookie_domain` as the browser reads it: the leading dot is ignored (RFC 6265 §5.2.3), case folded. */
export function normalizeDomain(domain: string): string {
  return domain.replace(/^\./, '').toLowerCase();
}

/** Every problem with the settings, as messages for the config report; empty when they are usable. */
export function checkSessionCookieSettings(settings: SessionCookieSettings): string[] {
  const problems: string[] = [];
  const { name, domain, secure, sameSite } = settings;
  if (!COOKIE_NAME.test(name)) {
    problems.push(`cookie_name ${JSON.stringify(name)} is not a valid cookie name`);
  }
  if (domain !== undefined) {
    const normalized = normalizeDomain(domain);
    if (!DOMAIN.test(normalized) || IPV4.test(normalized)) {
      problems.push(`cookie_domain ${JSON.stringify(domain)} must be a DNS name such as .example.com`);
    }
  }
  // Browsers ignore a SameSite=None cookie that is not Secure (RFC 6265bis, storage model).
  if (sameSite === 'none' && !secure) problems.push('cookie_same_site: none requires cookie_secure: true');
  // Cookie name prefixes, RFC 6265bis §4.1.3: browsers refuse cookies that break these rules.
  if (name.startsWith('__Secure-') && !secure) {
    problems.push('a __Secure- cookie_name requires cookie_secure: true');
  }
  if (name.startsWith('__Host-') && (!secure || domain !== undefined)) {
    problems.push('a __Host- cookie_name requires cookie_secure: true and no cookie_domain');
  }
  return problems;
}

/** The `cookie_*` keys of a parsed config as cookie settings. */
export function sessionCookieSettingsOf(
  config: Pick<
    GatehouseConfig,
    'cookie_name' | 'cookie_domain' | 'cookie_http_only' | 'cookie_secure' | 'cookie_same_site'
  >,
): SessionCookieSettings {
  return {
    name: config.cookie_name,
    ...(config.cookie_domain === undefined ? {} : { domain: config.cookie_domain }),
    httpOnly: config.cookie_http_only,
    secure: config.cookie_secure,
    sameSite: config.cookie_same_site,
  };
}
