/**
 * Security regression: hostile session tokens from test/fixtures/tokens/session-token-attacks.json
 * (regenerate with `node test/fixtures/tokens/generate.js`) are refused with the right code, and the
 * genuine ones — including one signed with a listed previous `shared_secret` — are accepted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { decodeSecret, deriveKey } from './secrets.js';
import { verifySessionToken } from './session-token.js';

interface AttackCase {
  name: string;
  token: string;
  keys: string[];
  expect: 'ERR_SESSION_INVALID' | 'ERR_SESSION_EXPIRED' | { sessionId: string; expiresAt: number };
}

interface AttackFixture {
  now: number;
  secrets: Record<string, string>;
  cases: AttackCase[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/tokens/session-token-attacks.json', import.meta.url), 'utf8'),
) as AttackFixture;

function tokenKey(name: string): Uint8Array {
  const encoded = fixture.secrets[name];
  if (encoded === undefined) throw new TypeError(`the fixture has no secret named ${name}`);
  const secret = decodeSecret(encoded);
  if (!secret.ok) throw new TypeError(`fixture secret ${name} ${secret.message}`);
  return deriveKey(secret.value, 'session-token');
}

function keyRing(names: readonly string[]) {
  const [current, ...previous] = names.map(tokenKey);
  if (current === undefined) throw new TypeError('a case needs at least one key');
  return { current, previous };
}

const refused = fixture.cases.filter((entry) => typeof entry.expect === 'string');
const accepted = fixture.cases.filter((entry) => typeof entry.expect !== 'string');

describe('session token attacks', () => {
  it('covers the attacks the identity issue lists', () => {
    const names = fixture.cases.map((entry) => entry.name).join('\n');
    for (const attack of [
      'alg none',
      'HS512',
      'RS256',
      'another secret',
      'truncated',
      'expired',
      'missing jti',
      'huge',
      'CRLF',
    ]) {
      expect(names).toContain(attack);
    }
  });

  it.each(refused)('refuses $name with $expect', async ({ token, keys, expect: code }) => {
    const verifying = verifySessionToken(token, keyRing(keys), fixture.now);
    await expect(verifying).rejects.toBeInstanceOf(GatehouseError);
    await expect(verifying).rejects.toMatchObject({ code, status: 401 });
  });

  it.each(accepted)('accepts $name', async ({ token, keys, expect: claims }) => {
    await expect(verifySessionToken(token, keyRing(keys), fixture.now)).resolves.toMatchObject(
      claims as object,
    );
  });
});
