import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectCode } from '../../test/harness/expect-code.js';
import { macOf } from './keyed-mac.js';
import { signLoginRequest, verifyLoginRequest } from './login-request.js';
import { LOGIN_TRANSACTION_TTL_MS, type LoginRequest } from './login-transaction.js';
import { deriveAuthKeys, type KeyRing } from './secrets.js';

interface LoginRequestAttack {
  readonly name: string;
  readonly value: string | null;
}

const attacks = (
  JSON.parse(
    readFileSync(new URL('../../test/fixtures/login/login-request-attacks.json', import.meta.url), 'utf8'),
  ) as { cases: LoginRequestAttack[] }
).cases;

const NOW = 1_800_000_000_000;
const currentSecret = new Uint8Array(32).fill(7);
const oldSecret = new Uint8Array(32).fill(3);
const cookieSecret = new Uint8Array(32).fill(9);
const keys = deriveAuthKeys({ sharedSecret: currentSecret, previousSharedSecrets: [], cookieSecret });
const key = keys.loginRequest;

const cookieRequest: LoginRequest = {
  returnUrl: 'https://app.example.com/dashboard?tab=2',
  routeHost: 'app.example.com',
  mode: 'cookie',
};
const programmaticRequest: LoginRequest = {
  returnUrl: 'https://api.example.com/.pomerium/api/v1/login',
  routeHost: 'api.example.com',
  mode: 'programmatic',
  programmaticRedirect: 'http://127.0.0.1:8000/callback',
};

/** Verification as the authenticate host does it, turned into a promise for expectCode. */
const verifying = (signed: string | undefined, ring: KeyRing = key, now = NOW) =>
  Promise.resolve().then(() => verifyLoginRequest(signed, ring, now));

const expectInvalid = (signed: string | undefined, ring?: KeyRing, now?: number) =>
  expectCode(verifying(signed, ring, now), 'ERR_LOGIN_STATE_INVALID');

/** A payload carrying `fields`, signed with the real key: what only a bug in Gatehouse could produce. */
function signFields(fields: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
  return `${payload}.${macOf(key.current, payload)}`;
}

/** The string an attack case sends; see the fixture's description. */
function valueOf(attack: LoginRequestAttack): string | undefined {
  const genuine = signLoginRequest(cookieRequest, key, NOW);
  const [payload = '', tag = ''] = genuine.split('.');
  const flip = (char: string) => (char === 'A' ? 'B' : 'A');
  switch (attack.value) {
    case null:
      return undefined;
    case '=genuine-tag-flipped':
      return `${payload}.${tag.slice(0, -1)}${flip(tag.at(-1) ?? '')}`;
    case '=genuine-payload-flipped':
      return `${flip(payload[0] ?? '')}${payload.slice(1)}.${tag}`;
    case '=genuine-truncated':
      return genuine.slice(0, -1);
    case '=genuine+x':
      return `${genuine}x`;
    case '=genuine-padded':
      return `${genuine}=`;
    case '=genuine-newline':
      return `${genuine}\n`;
    case '=payload-only':
      return payload;
    case '=oversize':
      return `${'A'.repeat(9000)}.${'A'.repeat(43)}`;
    case '=spliced': {
      const [, otherTag] = signLoginRequest(programmaticRequest, key, NOW).split('.');
      return `${payload}.${otherTag}`;
    }
    case '=other-secret':
      return signLoginRequest(
        cookieRequest,
        deriveAuthKeys({ sharedSecret: oldSecret, previousSharedSecrets: [], cookieSecret }).loginRequest,
        NOW,
      );
    case '=other-purpose':
      return signLoginRequest(cookieRequest, keys.handoffCode, NOW);
    default:
      return attack.value;
  }
}

describe('signed login requests', () => {
  it.each([
    ['a browser sign-in', cookieRequest],
    ['a programmatic sign-in', programmaticRequest],
  ])('carry %s to the authenticate host unchanged', async (_kind, request) => {
    const signed = signLoginRequest(request, key, NOW);
    expect(signed).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    await expect(verifying(signed)).resolves.toEqual(request);
  });

  it('are good until just before ten minutes have passed', async () => {
    const signed = signLoginRequest(cookieRequest, key, NOW);
    await expect(verifying(signed, key, NOW + LOGIN_TRANSACTION_TTL_MS - 1)).resolves.toEqual(cookieRequest);
  });

  it('expire after ten minutes, so a stale link cannot be replayed', async () => {
    const signed = signLoginRequest(cookieRequest, key, NOW);
    await expectInvalid(signed, key, NOW + LOGIN_TRANSACTION_TTL_MS);
    await expectInvalid(signed, key, NOW + 24 * 3_600_000);
  });

  it('keep verifying after shared_secret rotation, through previous_shared_secrets', async () => {
    const before = deriveAuthKeys({ sharedSecret: oldSecret, previousSharedSecrets: [], cookieSecret });
    const after = deriveAuthKeys({
      sharedSecret: currentSecret,
      previousSharedSecrets: [oldSecret],
      cookieSecret,
    });
    const signed = signLoginRequest(programmaticRequest, before.loginRequest, NOW);
    await expect(verifying(signed, after.loginRequest)).resolves.toEqual(programmaticRequest);
  });

  it('stop verifying once the old secret leaves previous_shared_secrets', async () => {
    const before = deriveAuthKeys({ sharedSecret: oldSecret, previousSharedSecrets: [], cookieSecret });
    await expectInvalid(signLoginRequest(cookieRequest, before.loginRequest, NOW), key);
  });

  it('say nothing to the user about why one was refused', async () => {
    const error = await expectInvalid('hello');
    expect(error.status).toBe(400);
    expect(error.message).toBe('this sign-in link has expired or is not valid; please start again');
  });
});

describe('signed login requests: attacks', () => {
  it.each(attacks)('refuses $name', async (attack) => {
    await expectInvalid(valueOf(attack));
  });
});

describe('signed login requests: what a valid signature still does not make valid', () => {
  const exp = NOW + 60_000;

  it.each([
    ['an unknown mode', { ...cookieRequest, mode: 'sso', exp }],
    ['no mode', { returnUrl: cookieRequest.returnUrl, routeHost: cookieRequest.routeHost, exp }],
    ['a programmatic mode without its redirect', { ...cookieRequest, mode: 'programmatic', exp }],
    ['a programmatic redirect that is not text', { ...programmaticRequest, programmaticRedirect: 5, exp }],
    ['no return URL', { routeHost: cookieRequest.routeHost, mode: 'cookie', exp }],
    ['a route host that is not text', { ...cookieRequest, routeHost: ['app.example.com'], exp }],
    ['no expiry', { ...cookieRequest }],
    ['an expiry that is not a number', { ...cookieRequest, exp: String(exp) }],
  ])('refuses %s', async (_kind, fields) => {
    await expectInvalid(signFields(fields));
  });
});
