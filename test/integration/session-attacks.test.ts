/**
 * Security regressions for sessions, through a real Gatehouse (development IdP, Redis store, an upstream
 * that records what reaches it). Broken tokens are built at test time from real signed-in sessions, as
 * test/fixtures/tokens/session-attacks.json describes, and sent in every form a session travels in: none may
 * pass, none may fall through to another credential, and the upstream must never see the request. Also:
 * cookie tossing, spoofed identity headers (test/fixtures/pomerium-header-spoofing.json) and response
 * splitting through the redirects built from the request (test/fixtures/crlf-redirects.json).
 *
 * Token parsing itself is unit-tested in src/auth/session-token-attacks.test.ts, and email look-alikes in
 * src/auth/access-shortcuts-email-attacks.test.ts; this file proves the wiring around them.
 */
import { execFile } from 'node:child_process';
import { createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../harness/client.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from '../harness/idp.js';
import { publicRoute } from '../harness/gatehouse.js';
import { deleteKeysWithPrefix, SHARED_REDIS, uniqueKeyPrefix } from '../harness/redis.js';
import {
  ALICE,
  APP,
  BOB,
  identityConfig,
  navigate,
  NAVIGATION,
  redisStoreConfig,
  SHARED_SECRET,
  signedInRoute,
  startAppWorld,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

const run = promisify(execFile);

const AUTH = 'auth.example.test';
const COOKIE = '_pomerium';
/** A protected path and a public one, both served by the recording upstream. */
const PROTECTED = '/private/report';
const PUBLIC = '/public/page';

function fixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')) as T;
}

// ---- test/fixtures/tokens/session-attacks.json -------------------------------------------------------

type ClaimValue = string | number;
type Mutation =
  | { kind: 'flip'; segment: number }
  | { kind: 'payload'; claims: Record<string, ClaimValue> }
  | { kind: 'otherSignature' }
  | {
      kind: 'header';
      header: Record<string, unknown>;
      signature: 'keep' | 'empty';
      claims?: Record<string, ClaimValue>;
    }
  | { kind: 'cut'; end: number }
  | { kind: 'segments'; keep: number; trailingDot?: boolean }
  | {
      kind: 'sign';
      key: 'current' | 'other' | 'wrong' | 'rawSharedSecret' | 'empty';
      header: Record<string, unknown>;
      claims?: Record<string, ClaimValue>;
    }
  | { kind: 'signOut' }
  | { kind: 'deleteRecord' };

interface TokenCase {
  readonly name: string;
  readonly mutation: Mutation;
}

interface SessionAttacks {
  readonly derivation: { hash: string; salt: string; info: string; length: number };
  readonly otherSharedSecret: string;
  readonly wrongKey: string;
  readonly controls: readonly TokenCase[];
  readonly attacks: Readonly<
    Record<
      'tampered' | 'truncated' | 'expired' | 'algNone' | 'wrongKey' | 'otherSecret' | 'deletedSession',
      readonly TokenCase[]
    >
  >;
}

const attacks = fixture<SessionAttacks>('tokens/session-attacks.json');

/** The token key Gatehouse derives from a shared_secret, computed here by hand (not with Gatehouse's code). */
function tokenKeyOf(sharedSecret: string): Buffer {
  const { hash, salt, info, length } = attacks.derivation;
  return Buffer.from(hkdfSync(hash, Buffer.from(sharedSecret, 'base64'), salt, info, length));
}

const KEYS: Readonly<Record<Extract<Mutation, { kind: 'sign' }>['key'], Buffer>> = {
  current: tokenKeyOf(SHARED_SECRET),
  other: tokenKeyOf(attacks.otherSharedSecret),
  wrong: Buffer.from(attacks.wrongKey, 'base64'),
  rawSharedSecret: Buffer.from(SHARED_SECRET, 'base64'),
  empty: Buffer.alloc(0),
};

const encodeJson = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodeJson = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

function segmentsOf(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

/** The real token a mutation starts from, and another signed-in user's, for swaps. */
interface Originals {
  readonly token: string;
  readonly otherToken: string;
}

const CLAIM_EXPRESSION = /^\$(now|iat|exp)([+-]\d+)?$/;

function resolveClaims(
  overrides: Record<string, ClaimValue> | undefined,
  originals: Originals,
): Record<string, unknown> {
  const claims = decodeJson(segmentsOf(originals.token)[1]);
  const now = Math.floor(Date.now() / 1000);
  const resolved: Record<string, unknown> = { ...claims };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (typeof value === 'number') {
      resolved[name] = value;
    } else if (value === '$jti') {
      resolved[name] = claims.jti;
    } else if (value === '$otherJti') {
      resolved[name] = decodeJson(segmentsOf(originals.otherToken)[1]).jti;
    } else {
      const [, base = '', offset = '0'] = CLAIM_EXPRESSION.exec(value) ?? [];
      if (base === '') throw new TypeError(`unknown claim expression ${value}`);
      resolved[name] = (base === 'now' ? now : Number(claims[base])) + Number(offset);
    }
  }
  return resolved;
}

/** Changes one character in the middle of a base64url segment. */
function flip(segment: string): string {
  const at = Math.floor(segment.length / 2);
  return `${segment.slice(0, at)}${segment[at] === 'A' ? 'B' : 'A'}${segment.slice(at + 1)}`;
}

function hs256(input: string, key: Buffer): string {
  return createHmac('sha256', key).update(input).digest('base64url');
}

function applyTokenMutation(mutation: Mutation, originals: Originals): string {
  const { token } = originals;
  const segments = segmentsOf(token);
  const [header, , signature] = segments;
  switch (mutation.kind) {
    case 'flip':
      return segments
        .map((segment, index) => (index === mutation.segment ? flip(segment) : segment))
        .join('.');
    case 'payload':
      return `${header}.${encodeJson(resolveClaims(mutation.claims, originals))}.${signature}`;
    case 'otherSignature':
      return `${segments[0]}.${segments[1]}.${segmentsOf(originals.otherToken)[2]}`;
    case 'header': {
      const payload = encodeJson(resolveClaims(mutation.claims, originals));
      return `${encodeJson(mutation.header)}.${payload}.${mutation.signature === 'keep' ? signature : ''}`;
    }
    case 'cut':
      return token.slice(0, mutation.end);
    case 'segments':
      return segments.slice(0, mutation.keep).join('.') + (mutation.trailingDot === true ? '.' : '');
    case 'sign': {
      const input = `${encodeJson(mutation.header)}.${encodeJson(resolveClaims(mutation.claims, originals))}`;
      return `${input}.${hs256(input, KEYS[mutation.key])}`;
    }
    case 'signOut':
    case 'deleteRecord':
      throw new TypeError(`${mutation.kind} acts on the session, not on the token`);
  }
}

// ---- the world -------------------------------------------------------------------------------------

const keyPrefix = uniqueKeyPrefix();
let world: SignInWorld;

beforeAll(async () => {
  world = await startAppWorld(
    (upstream) =>
      `${publicRoute(`http://${APP}`, upstream, '    prefix: /public\n')}${signedInRoute(`http://${APP}`, upstream)}`,
    redisStoreConfig(keyPrefix),
  );
});

afterAll(async () => {
  await world?.close();
  await deleteKeysWithPrefix(keyPrefix);
});

/**
 * Signs `user` in through `/.pomerium/sign_in`, returning to a public page: the token is never used on a
 * protected route here, so nothing of it is cached in the proxy and each test decides its first use.
 */
async function freshToken(user: string): Promise<string> {
  const jar = new CookieJar();
  const returnTo = world.url(APP, `${PUBLIC}/signed-in`).href;
  const visit = await navigate(
    world.url(APP, `/.pomerium/sign_in?pomerium_redirect_uri=${encodeURIComponent(returnTo)}`),
    jar,
    user,
    world.idp,
  );
  expect(visit.answer.status).toBe(200);
  const token = jar.get(world.url(APP), COOKIE);
  if (token === undefined) throw new Error(`signing ${user} in left no session cookie`);
  return token;
}

function redis(...args: string[]): Promise<string> {
  return run('redis-cli', ['-h', SHARED_REDIS.host, '-p', String(SHARED_REDIS.port), ...args]).then(
    ({ stdout }) => stdout.trim(),
  );
}

const recordKeyOf = (token: string): string =>
  `${keyPrefix}session:${String(decodeJson(segmentsOf(token)[1]).jti)}`;

/** Ends the session a real token names, the way the fixture says; the token itself is unchanged. */
async function endSession(mutation: Mutation, token: string): Promise<void> {
  if (mutation.kind === 'signOut') {
    const answer = await requestWithCookies(world.url(APP, '/.pomerium/sign_out'), new CookieJar(), {
      method: 'POST',
      headers: { accept: 'application/json', cookie: `${COOKIE}=${token}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(answer.status).toBe(200);
    return;
  }
  if (mutation.kind !== 'deleteRecord') throw new TypeError(`${mutation.kind} does not end a session`);
  // The record is there, so the token was a good one until now.
  expect(await redis('UNLINK', recordKeyOf(token))).toBe('1');
}

// ---- how a session travels -------------------------------------------------------------------------

/** A script's fetch(): Fetch metadata of a same-origin request. */
const FETCH = {
  accept: '*/*',
  'sec-fetch-mode': 'cors',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-dest': 'empty',
} as const;

interface Carrier {
  readonly name: string;
  readonly headers: (token: string) => OutgoingHttpHeaders;
  /** 302 to sign in (a navigation carrying a cookie) or 401. */
  readonly expected: 302 | 401;
}

const TOKEN_FORMS: readonly { name: string; headers: (token: string) => OutgoingHttpHeaders }[] = [
  { name: 'X-Pomerium-Authorization', headers: (token) => ({ 'x-pomerium-authorization': token }) },
  { name: 'Authorization: Pomerium', headers: (token) => ({ authorization: `Pomerium ${token}` }) },
  {
    name: 'Authorization: Bearer Pomerium-',
    headers: (token) => ({ authorization: `Bearer Pomerium-${token}` }),
  },
];

const CARRIERS: readonly Carrier[] = [
  { name: 'cookie, fetch', headers: (token) => ({ ...FETCH, cookie: `${COOKIE}=${token}` }), expected: 401 },
  {
    name: 'cookie, navigation',
    headers: (token) => ({ ...NAVIGATION, cookie: `${COOKIE}=${token}` }),
    expected: 302,
  },
  ...TOKEN_FORMS.flatMap((form): Carrier[] => [
    {
      name: `${form.name}, fetch`,
      headers: (token) => ({ ...FETCH, ...form.headers(token) }),
      expected: 401,
    },
    // A header token is an API client's: never sent through the IdP's pages, even when it asks for HTML.
    {
      name: `${form.name}, navigation`,
      headers: (token) => ({ ...NAVIGATION, ...form.headers(token) }),
      expected: 401,
    },
  ]),
];

function get(path: string, headers: OutgoingHttpHeaders): Promise<HttpAnswer> {
  return requestWithCookies(world.url(APP, path), new CookieJar(), { headers });
}

/**
 * A 302 to the IdP, or a 401 with `WWW-Authenticate: Pomerium` — JSON a script can read, unless the request
 * asked for HTML (a header token sent by a navigation), which gets the HTML page of the same error.
 */
function expectUnauthenticated(answer: HttpAnswer, expected: 302 | 401, what: string): void {
  expect(answer.status, what).toBe(expected);
  if (expected === 302) {
    expect(new URL(answer.headers.location ?? '', world.url(APP)).origin, what).toBe(
      new URL(world.idp.issuer).origin,
    );
    return;
  }
  expect(answer.headers['www-authenticate'], what).toBe('Pomerium');
  if (answer.headers['content-type']?.startsWith('text/html') === true) {
    expect(answer.body, what).toContain('401');
    return;
  }
  expect(answer.headers['content-type'], what).toContain('application/json');
  expect(JSON.parse(answer.body), what).toMatchObject({ error: 'unauthenticated' });
}

/** Sends `token` in every form; each must be refused and the upstream must hear nothing. */
async function expectRefusedEverywhere(token: string, what: string): Promise<void> {
  const before = world.upstream.requests.length;
  for (const carrier of CARRIERS) {
    expectUnauthenticated(
      await get(PROTECTED, carrier.headers(token)),
      carrier.expected,
      `${what} (${carrier.name})`,
    );
  }
  expect(world.upstream.requests.slice(before), `${what}: requests the upstream received`).toEqual([]);
}

async function expectAcceptedEverywhere(token: string, what: string): Promise<void> {
  for (const carrier of CARRIERS) {
    const before = world.upstream.requests.length;
    const answer = await get(PROTECTED, carrier.headers(token));
    expect(answer.status, `${what} (${carrier.name})`).toBe(200);
    expect(world.upstream.requests.length, `${what} (${carrier.name})`).toBe(before + 1);
  }
}

/** Builds each case of a class from alice's real session (bob's for swaps) and checks it is refused. */
async function expectClassRefused(cases: readonly TokenCase[], originals: Originals): Promise<void> {
  expect(cases.length).toBeGreaterThan(0);
  for (const { name, mutation } of cases) {
    const token = applyTokenMutation(mutation, originals);
    expect(token, name).not.toBe(originals.token);
    await expectRefusedEverywhere(token, name);
  }
}

// ---- the tests -------------------------------------------------------------------------------------

describe('session tokens that are not good', () => {
  /** Alice's and bob's real tokens, which every case is made from. */
  let originals: Originals;

  beforeAll(async () => {
    originals = { token: await freshToken(ALICE), otherToken: await freshToken(BOB) };
  });

  it('accepts the real token and tokens re-signed here with the configured secret (the controls)', async () => {
    await expectAcceptedEverywhere(originals.token, 'the real token');
    for (const { name, mutation } of attacks.controls) {
      await expectAcceptedEverywhere(applyTokenMutation(mutation, originals), name);
    }
  });

  it('refuses a tampered token', async () => {
    await expectClassRefused(attacks.attacks.tampered, originals);
  });

  it('refuses a truncated token', async () => {
    await expectClassRefused(attacks.attacks.truncated, originals);
  });

  it('refuses an expired token, even one signed with the configured secret', async () => {
    await expectClassRefused(attacks.attacks.expired, originals);
  });

  it('refuses a token with alg none', async () => {
    await expectClassRefused(attacks.attacks.algNone, originals);
  });

  it('refuses an HS256 token signed with a wrong key', async () => {
    await expectClassRefused(attacks.attacks.wrongKey, originals);
  });

  it('refuses a token signed with another Gatehouse’s shared_secret', async () => {
    await expectClassRefused(attacks.attacks.otherSecret, originals);
  });

  it('refuses a genuine token whose session was signed out or deleted', async () => {
    for (const { name, mutation } of attacks.attacks.deletedSession) {
      const token = await freshToken(ALICE);
      await endSession(mutation, token);
      await expectRefusedEverywhere(token, name);
    }
  });
});

describe('which credential counts', () => {
  it('refuses two differing session cookies (cookie tossing), even when both are genuine', async () => {
    const alice = await freshToken(ALICE);
    const bob = await freshToken(BOB);
    const before = world.upstream.requests.length;
    for (const cookie of [
      `${COOKIE}=${bob}; ${COOKIE}=${alice}`,
      `${COOKIE}=${alice}; theme=dark; ${COOKIE}=${bob}`,
    ]) {
      expectUnauthenticated(await get(PROTECTED, { ...FETCH, cookie }), 401, cookie);
      expectUnauthenticated(await get(PROTECTED, { ...NAVIGATION, cookie }), 302, cookie);
    }
    expect(world.upstream.requests.slice(before)).toEqual([]);
    // The same cookie twice (a host-only and a domain cookie holding one token) is one credential.
    const same = await get(PROTECTED, { ...FETCH, cookie: `${COOKIE}=${alice}; ${COOKIE}=${alice}` });
    expect(same.status).toBe(200);
  });

  it('does not fall through from a bad credential to a good one that comes later', async () => {
    const good = await freshToken(ALICE);
    const bad = flip(good);
    const before = world.upstream.requests.length;
    // Each later form carries the good token behind a bad earlier one (DESIGN 3's order).
    const stacks: readonly [string, OutgoingHttpHeaders][] = [
      [
        'bad cookie, good X-Pomerium-Authorization',
        { cookie: `${COOKIE}=${bad}`, 'x-pomerium-authorization': good },
      ],
      [
        'bad cookie, good Authorization: Pomerium',
        { cookie: `${COOKIE}=${bad}`, authorization: `Pomerium ${good}` },
      ],
      [
        'empty cookie, good X-Pomerium-Authorization',
        { cookie: `${COOKIE}=`, 'x-pomerium-authorization': good },
      ],
      [
        'bad X-Pomerium-Authorization, good Authorization: Pomerium',
        { 'x-pomerium-authorization': bad, authorization: `Pomerium ${good}` },
      ],
      [
        'bad X-Pomerium-Authorization, good Authorization: Bearer Pomerium-',
        { 'x-pomerium-authorization': bad, authorization: `Bearer Pomerium-${good}` },
      ],
      ['empty Authorization: Pomerium', { authorization: 'Pomerium ' }],
    ];
    for (const [what, headers] of stacks) {
      expectUnauthenticated(await get(PROTECTED, { ...FETCH, ...headers }), 401, what);
    }
    expect(world.upstream.requests.slice(before)).toEqual([]);
    // The good token alone is accepted, so the 401s above came from the bad one.
    expect((await get(PROTECTED, { ...FETCH, 'x-pomerium-authorization': good })).status).toBe(200);
  });
});

describe('spoofed identity headers', () => {
  interface SpoofingFixture {
    readonly headers: readonly { name: string; value: string }[];
  }
  const spoofing = fixture<SpoofingFixture>('pomerium-header-spoofing.json');

  /** Whether a header name becomes an `X-Pomerium-*` one once case, `_` and `.` are folded. */
  const isPomeriumName = (name: string): boolean =>
    name.toLowerCase().replace(/[_.]/g, '-').startsWith('x-pomerium-');

  async function expectNoneForwarded(path: string, extra: OutgoingHttpHeaders): Promise<void> {
    const headers: OutgoingHttpHeaders = { ...FETCH, ...extra };
    // Node's client keeps the names as written, so each one reaches Gatehouse in its own spelling.
    for (const { name, value } of spoofing.headers) headers[name] = value;
    const before = world.upstream.requests.length;
    const answer = await get(path, headers);
    expect(answer.status, path).toBe(200);
    expect(world.upstream.requests.length).toBe(before + 1);
    const seen = world.upstream.lastRequest();
    const names: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < seen.rawHeaders.length; i += 2) {
      names.push(seen.rawHeaders[i] ?? '');
      values.push(seen.rawHeaders[i + 1] ?? '');
    }
    expect(names.filter(isPomeriumName), path).toEqual([]);
    const spoofedValues = new Set(spoofing.headers.map((header) => header.value));
    expect(
      values.filter((value) => spoofedValues.has(value)),
      path,
    ).toEqual([]);
  }

  it('never forwards an incoming X-Pomerium-* header in any spelling on a public route', async () => {
    expect(spoofing.headers.every((header) => isPomeriumName(header.name))).toBe(true);
    await expectNoneForwarded(`${PUBLIC}/spoof`, {});
  });

  it('never forwards an incoming X-Pomerium-* header in any spelling on a protected route', async () => {
    const token = await freshToken(BOB);
    await expectNoneForwarded(`${PROTECTED}/spoof`, { cookie: `${COOKIE}=${token}` });
  });
});

describe('response splitting through redirects', () => {
  interface CrlfFixture {
    readonly injectedNames: readonly string[];
    readonly targets: readonly { name: string; target: string; status: 200 | 400; reaches?: string }[];
  }
  const crlf = fixture<CrlfFixture>('crlf-redirects.json');

  // The sign-in here crosses hosts — app → auth's /oauth2/start → IdP → auth's callback → app's hand-off
  // → the page — so every redirect that carries something of the request is on the way.
  let split: SignInWorld;

  beforeAll(async () => {
    split = await startSignInWorld({
      callbackHosts: [AUTH],
      config: ({ issuer, port, upstream }) =>
        identityConfig(
          issuer,
          `authenticate_service_url: http://${AUTH}:${port}
routes:
${signedInRoute(`http://${APP}`, upstream)}`,
        ),
    });
  });

  afterAll(async () => {
    await split?.close();
  });

  /** Splits a raw HTTP/1.1 response; throws when its header block is malformed (a split would be). */
  function readRawResponse(raw: string, what: string): { status: number; headers: [string, string][] } {
    const end = raw.indexOf('\r\n\r\n');
    expect(end, `${what}: no end of headers`).toBeGreaterThan(0);
    const block = raw.slice(0, end);
    // A CR or LF that is not part of a CRLF line ending is a split in the making.
    expect(/\r(?!\n)|(?<!\r)\n/.test(block), `${what}: bare CR or LF in ${JSON.stringify(block)}`).toBe(
      false,
    );
    const [statusLine = '', ...lines] = block.split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1];
    expect(status, `${what}: ${statusLine}`).toBeDefined();
    const headers = lines.map((line): [string, string] => {
      const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): ?(.*)$/.exec(line);
      expect(match, `${what}: malformed header line ${JSON.stringify(line)}`).not.toBeNull();
      return [(match?.[1] ?? '').toLowerCase(), match?.[2] ?? ''];
    });
    for (const [name, value] of headers) {
      for (const injected of crlf.injectedNames) {
        expect(`${name}: ${value}`.toLowerCase().startsWith(injected), `${what}: ${name}: ${value}`).toBe(
          false,
        );
      }
    }
    return { status: Number(status), headers };
  }

  /**
   * Walks a sign-in on raw sockets from `target` on the app host, signing in at the IdP as alice, and
   * checks every response Gatehouse writes on the way. Returns the status the walk ends with.
   */
  async function walkRaw(
    target: string,
    what: string,
    idpJar: CookieJar,
  ): Promise<{ status: number; paths: string[] }> {
    const jar = new CookieJar();
    const issuerOrigin = new URL(split.idp.issuer).origin;
    let host = `${APP}:${split.port}`;
    let requestTarget = target;
    const paths: string[] = [];
    for (let step = 0; step < 8; step += 1) {
      const url = new URL(`http://${host}${requestTarget}`);
      const cookie = jar.header(url);
      const request =
        `GET ${requestTarget} HTTP/1.1\r\nHost: ${host}\r\n` +
        Object.entries(NAVIGATION)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        (cookie === undefined ? '' : `Cookie: ${cookie}\r\n`) +
        'Connection: close\r\n\r\n';
      paths.push(url.pathname);
      const raw = await sendRaw(split.port, Buffer.from(request, 'latin1'));
      const response = readRawResponse(raw, `${what}, step ${step}: GET ${requestTarget}`);
      jar.store(
        url,
        response.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value),
      );
      const location = response.headers.find(([name]) => name === 'location')?.[1];
      if (response.status !== 302 || location === undefined) return { status: response.status, paths };
      let next = new URL(location, url);
      if (next.origin === issuerOrigin) next = await signInWithoutBrowser(next, ALICE, idpJar);
      host = next.host;
      requestTarget = `${next.pathname}${next.search}`;
    }
    throw new Error(`${what}: too many redirects`);
  }

  it('never splits the headers of a redirect built from the request path or query', async () => {
    const appOrigin = encodeURIComponent(`http://${APP}:${split.port}`);
    // The IdP's own session is kept between walks, as a browser would; Gatehouse's cookies are not.
    const idpJar = new CookieJar();
    for (const { name, target, status, reaches } of crlf.targets) {
      const before = split.upstream.requests.length;
      const walk = await walkRaw(target.replaceAll('{app}', appOrigin), name, idpJar);
      expect(walk.status, name).toBe(status);
      const reached = split.upstream.requests.slice(before).map((request) => request.url.toLowerCase());
      if (status !== 200) {
        expect(reached, name).toEqual([]);
        continue;
      }
      // Every redirect of the cross-host sign-in was on the way, and the page asked for was served.
      expect(walk.paths, name).toEqual(
        expect.arrayContaining(['/oauth2/start', '/oauth2/callback', '/.pomerium/callback']),
      );
      expect(reached, name).toEqual([reaches?.toLowerCase()]);
    }
  });
});
