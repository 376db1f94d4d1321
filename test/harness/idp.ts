/**
 * Signing in at the development IdP over plain HTTP, no browser: follow the redirects, post the chosen
 * user on the sign-in form, and hand back the redirect to the relying party's `redirect_uri`. Every
 * connection goes to loopback (like ./client.ts) with the URL's host as the Host header, so test host
 * names such as `idp.example.test` work without DNS.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** The host it was set by, or the Domain attribute's value when `hostOnly` is false. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  readonly expiresAt: number;
}

/**
 * Enough of RFC 6265 for tests over http: Domain and Path scoping (§5.1.3, §5.1.4), Max-Age and
 * Expires, deletion by an expired cookie. Ports are ignored, as browsers do (§8.5).
 */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  /** Stores the `Set-Cookie` headers of a response from `url`. */
  store(url: URL, setCookieHeaders: readonly string[]): void {
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(url, header);
      if (cookie === undefined) continue;
      const key = `${cookie.domain};${cookie.path};${cookie.name}`;
      if (cookie.expiresAt <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, cookie);
    }
  }

  /** The `Cookie` header a browser would send to `url`, or undefined when none apply. */
  header(url: URL): string | undefined {
    const host = url.hostname.toLowerCase();
    const now = Date.now();
    const pairs = [...this.cookies.values()]
      .filter((cookie) => cookie.expiresAt > now)
      .filter((cookie) => (cookie.hostOnly ? host === cookie.domain : domainMatches(host, cookie.domain)))
      .filter((cookie) => pathMatches(url.pathname, cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`);
    return pairs.length === 0 ? undefined : pairs.join('; ');
  }

  /** The value of a cookie that would be sent to `url`. */
  get(url: URL, name: string): string | undefined {
    const header = this.header(url);
    const pair = header?.split('; ').find((candidate) => candidate.startsWith(`${name}=`));
    return pair?.slice(name.length + 1);
  }
}

function parseSetCookie(url: URL, header: string): StoredCookie | undefined {
  const [pair = '', ...attributes] = header.split(';');
  const equals = pair.indexOf('=');
  if (equals <= 0) return undefined;
  const host = url.hostname.toLowerCase();
  let domain = host;
  let hostOnly = true;
  let path = defaultPath(url.pathname);
  let expiresAt = Infinity;
  let maxAge: number | undefined;
  for (const attribute of attributes) {
    const [rawName = '', ...rest] = attribute.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (name === 'domain' && value !== '') {
      domain = value.replace(/^\./, '').toLowerCase();
      hostOnly = false;
      // §5.3 step 6: a response may not set a cookie for a domain it is not part of.
      if (!domainMatches(host, domain)) return undefined;
    } else if (name === 'path' && value.startsWith('/')) {
      path = value;
    } else if (name === 'max-age') {
      maxAge = Number(value);
    } else if (name === 'expires') {
      expiresAt = Date.parse(value);
    }
  }
  // §5.3 step 3: Max-Age wins over Expires.
  if (maxAge !== undefined) expiresAt = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
  return {
    name: pair.slice(0, equals).trim(),
    value: pair.slice(equals + 1).trim(),
    domain,
    hostOnly,
    path,
    expiresAt,
  };
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (isIP(host) === 0 && host.endsWith(`.${domain}`));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request to a loopback server, carrying and collecting the jar's cookies; redirects not followed. */
export function requestWithCookies(
  url: URL,
  cookieJar: CookieJar,
  init: {
    readonly method?: string;
    readonly form?: URLSearchParams;
    readonly headers?: http.OutgoingHttpHeaders;
  } = {},
): Promise<HttpAnswer> {
  const body = init.form?.toString();
  const cookie = cookieJar.header(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname === '[::1]' ? '::1' : '127.0.0.1',
        port: url.port || 80,
        method: init.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        agent: false,
        headers: {
          host: url.host,
          ...(cookie === undefined ? {} : { cookie }),
          ...(body === undefined
            ? {}
            : {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
              }),
          ...init.headers,
        },
      },
      (res) => {
        cookieJar.store(url, res.headers['set-cookie'] ?? []);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const MAX_STEPS = 10;

/** Where a walk through the IdP's pages ended. */
type WalkEnd =
  | { readonly left: URL }
  | { readonly stoppedAt: URL; readonly answer: HttpAnswer; readonly exhausted: boolean };

/**
 * Walks the IdP's pages as a browser would: follows redirects that stay on the IdP, lets `submit` choose
 * the form to post on a page (or none, which stops the walk), and ends at the first redirect that leaves
 * the IdP.
 */
async function walkIdp(
  start: URL,
  cookieJar: CookieJar,
  submit: (page: HttpAnswer, at: URL) => { action: URL; fields: URLSearchParams } | undefined,
): Promise<WalkEnd> {
  let url = start;
  let answer = await requestWithCookies(url, cookieJar);
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const location = redirectTarget(url, answer);
    if (location !== undefined) {
      if (location.origin !== start.origin) return { left: location };
      url = location;
      answer = await requestWithCookies(url, cookieJar);
      continue;
    }
    const form = answer.status === 200 ? submit(answer, url) : undefined;
    if (form === undefined) return { stoppedAt: url, answer, exhausted: false };
    url = form.action;
    answer = await requestWithCookies(url, cookieJar, { method: 'POST', form: form.fields });
  }
  return { stoppedAt: url, answer, exhausted: true };
}

/**
 * Drives an authorization request to its end as a browser would: follows the IdP's redirects, picks
 * `user` on the sign-in page (skipped when the jar already holds an IdP session), and returns the first
 * redirect that leaves the IdP — the relying party's `redirect_uri` with `code` and `state`, or with
 * `error`. Pass one jar to several calls to keep the IdP session between them.
 */
export async function signInWithoutBrowser(
  authorizationUrl: string | URL,
  user: string,
  cookieJar: CookieJar = new CookieJar(),
): Promise<URL> {
  const end = await walkIdp(new URL(authorizationUrl), cookieJar, (page, at) => {
    const action = /<form method="post" action="([^"]+\/login)"/.exec(page.body)?.[1];
    return action === undefined
      ? undefined
      : { action: new URL(unescapeHtml(action), at), fields: new URLSearchParams({ user }) };
  });
  if ('left' in end) return end.left;
  throw new Error(
    `sign-in stopped at ${end.stoppedAt.href} with ${end.answer.status}: ${end.answer.body.slice(0, 300)}`,
  );
}

/**
 * Follows an RP-initiated logout (`end_session_endpoint?id_token_hint=…&post_logout_redirect_uri=…`):
 * submits the self-submitting sign-out form a browser would, and returns the redirect that leaves the
 * IdP (the `post_logout_redirect_uri`, with `state`), or the IdP's own "signed out" page URL.
 */
export async function signOutWithoutBrowser(endSessionUrl: string | URL, cookieJar: CookieJar): Promise<URL> {
  const end = await walkIdp(new URL(endSessionUrl), cookieJar, (page, at) => {
    const form = readSelfSubmittingForm(page.body);
    return form === undefined ? undefined : { action: new URL(form.action, at), fields: form.fields };
  });
  if ('left' in end) return end.left;
  if (!end.exhausted) return end.stoppedAt;
  throw new Error(`sign-out stopped at ${end.stoppedAt.href} with ${end.answer.status}`);
}

function redirectTarget(from: URL, answer: HttpAnswer): URL | undefined {
  const location = answer.headers.location;
  if (answer.status < 300 || answer.status > 399 || location === undefined) return undefined;
  return new URL(location, from);
}

/** The form a page submits by itself, with its hidden fields (those inside it or naming it by `form=`). */
function readSelfSubmittingForm(html: string): { action: string; fields: URLSearchParams } | undefined {
  const form = /<form\b([^>]*)>/.exec(html);
  if (form === null) return undefined;
  const action = /action="([^"]*)"/.exec(form[1] ?? '')?.[1];
  if (action === undefined) return undefined;
  const fields = new URLSearchParams();
  for (const input of html.matchAll(/<input\b([^>]*)>/g)) {
    const attributes = input[1] ?? '';
    if (!/type="hidden"/.test(attributes)) continue;
    const name = /name="([^"]*)"/.exec(attributes)?.[1];
    const value = /value="([^"]*)"/.exec(attributes)?.[1];
    if (name !== undefined && value !== undefined) fields.set(unescapeHtml(name), unescapeHtml(value));
  }
  return { action: unescapeHtml(action), fields };
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
