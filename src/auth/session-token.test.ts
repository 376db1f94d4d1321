import { describe, expect, it } from 'vitest';
import { deriveKey } from './secrets.js';
import { newSessionId } from './session-id.js';
import { MAX_SESSION_TOKEN_LENGTH, signSessionToken, verifySessionToken } from './session-token.js';

const key = deriveKey(new Uint8Array(32).fill(1), 'session-token');
const oldKey = deriveKey(new Uint8Array(32).fill(2), 'session-token');
const ring = { current: key, previous: [] };

/** 2001-09-09T01:46:40Z: far from the real clock, so a test passes only if `now` is what counts. */
const NOW = 1_000_000_000_000;
const HOUR = 3_600_000;
const claims = { sessionId: newSessionId(), issuedAt: NOW, expiresAt: NOW + 14 * HOUR };

const decodeSegment = (token: string, index: number): unknown =>
  JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));

describe('signSessionToken', () => {
  it('makes a compact HS256 JWS carrying only jti, iat and exp', async () => {
    const token = await signSessionToken(claims, key);
    expect(decodeSegment(token, 0)).toEqual({ alg: 'HS256' });
    expect(decodeSegment(token, 1)).toEqual({
      jti: claims.sessionId,
      iat: NOW / 1000,
      exp: (NOW + 14 * HOUR) / 1000,
    });
  });

  it('keeps tokens short enough for a cookie with room to spare', async () => {
    const token = await signSessionToken(claims, key);
    expect(token.length).toBeLessThan(200);
    expect(token.length).toBeLessThan(MAX_SESSION_TOKEN_LENGTH);
  });

  it('rounds expiry down to whole seconds so the token never outlives the record', async () => {
    const token = await signSessionToken({ ...claims, expiresAt: NOW + HOUR + 999 }, key);
    await expect(verifySessionToken(token, ring, NOW)).resolves.toMatchObject({ expiresAt: NOW + HOUR });
  });

  it.each([
    ['a session id not made by newSessionId', { ...claims, sessionId: 'user:1' }],
    ['an expiry before issue', { ...claims, expiresAt: NOW - 1 }],
    ['an expiry in the same second', { ...claims, expiresAt: NOW + 999 }],
    ['fractional milliseconds', { ...claims, issuedAt: NOW + 0.5 }],
  ])('treats %s as a programming mistake', async (_label, bad) => {
    await expect(signSessionToken(bad, key)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('verifySessionToken', () => {
  it('returns the claims of a token it signed', async () => {
    const token = await signSessionToken(claims, key);
    await expect(verifySessionToken(token, ring, NOW + HOUR)).resolves.toEqual(claims);
  });

  it('uses the time it is given, not the clock', async () => {
    const token = await signSessionToken(claims, key);
    await expect(verifySessionToken(token, ring, NOW)).resolves.toEqual(claims);
    await expect(verifySessionToken(token, ring, claims.expiresAt - 1000)).resolves.toEqual(claims);
  });

  it('reports a genuine token at or after its expiry as expired', async () => {
    const token = await signSessionToken(claims, key);
    await expect(verifySessionToken(token, ring, claims.expiresAt)).rejects.toMatchObject({
      code: 'ERR_SESSION_EXPIRED',
      status: 401,
    });
  });

  it('accepts a token signed with a previous key while that key is listed', async () => {
    const token = await signSessionToken(claims, oldKey);
    await expect(verifySessionToken(token, { current: key, previous: [oldKey] }, NOW)).resolves.toEqual(
      claims,
    );
    await expect(verifySessionToken(token, ring, NOW)).rejects.toMatchObject({ code: 'ERR_SESSION_INVALID' });
  });

  it('reports an expired token signed with a previous key as expired, not invalid', async () => {
    const token = await signSessionToken(claims, oldKey);
    await expect(
      verifySessionToken(token, { current: key, previous: [oldKey] }, claims.expiresAt + 1),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
  });

  it('gives the same message for every invalid token and keeps the reason as cause', async () => {
    const wrongKey = await signSessionToken(claims, oldKey);
    const reasons = await Promise.all(
      [wrongKey, 'garbage', `${wrongKey}\r\n`].map((token) =>
        verifySessionToken(token, ring, NOW).catch((error: unknown) => error),
      ),
    );
    for (const error of reasons) {
      expect(error).toMatchObject({ code: 'ERR_SESSION_INVALID', message: 'the session token is not valid' });
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
  });

  it('refuses a token over the length limit before parsing it', async () => {
    const token = `${'a'.repeat(MAX_SESSION_TOKEN_LENGTH)}.b.c`;
    const error = (await verifySessionToken(token, ring, NOW).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'ERR_SESSION_INVALID' });
    expect((error.cause as Error).message).toContain('longer than');
  });
});

describe('session token keys', () => {
  it('treats a key that was not derived as a programming mistake', async () => {
    await expect(signSessionToken(claims, new Uint8Array(16))).rejects.toBeInstanceOf(TypeError);
    await expect(
      verifySessionToken('a.b.c', { current: new Uint8Array(0), previous: [] }, NOW),
    ).rejects.toBeInstanceOf(TypeError);
  });
});
