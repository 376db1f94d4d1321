import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { sealRecord } from './sealed-record.js';
import {
  openSessionRecord,
  parseSessionRecord,
  sealSessionRecord,
  serializeSessionRecord,
  type SessionRecord,
} from './session-record.js';

const key = new Uint8Array(32).fill(1);
const ring = { current: key, previous: [] };
const ID = 'AAECAwQFBgcICQoLDA0ODw';

const full: SessionRecord = {
  userId: 'user-1',
  email: 'alice@example.com',
  name: 'Alice',
  groups: ['admins', 'staff'],
  claims: { sub: 'user-1', email_verified: true, address: { country: 'NZ' }, amr: ['pwd'], age: null },
  tokens: {
    idToken: 'id.token.value',
    idTokenExpiresAt: 1_700_000_300_000,
    accessToken: 'access-token-value',
    accessTokenIssuedAt: 1_700_000_000_000,
    accessTokenExpiresAt: 1_700_000_300_000,
    refreshToken: 'refresh-token-value',
    refreshTokenExpiresAt: 1_700_086_400_000,
  },
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_050_400_000,
};

const minimal: SessionRecord = {
  userId: 'user-2',
  groups: [],
  claims: {},
  tokens: {},
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_000_000,
};

const stored = (changes: Record<string, unknown>) => JSON.stringify({ ...full, ...changes });

describe('parseSessionRecord', () => {
  it.each([
    ['every field', full],
    ['only the required fields', minimal],
  ])('reads back a record with %s', (_label, record) => {
    expect(parseSessionRecord(serializeSessionRecord(record))).toEqual(record);
  });

  it('reads a record written before the access token’s issue time was kept', () => {
    const older: SessionRecord = {
      ...full,
      tokens: { accessToken: 'access', accessTokenExpiresAt: 1_700_000_300_000, refreshToken: 'refresh' },
    };
    expect(parseSessionRecord(JSON.stringify(older))).toEqual(older);
  });

  it('ignores fields it does not know, so replicas of another version can share the store', () => {
    expect(parseSessionRecord(stored({ addedLater: 1 }))).toEqual(full);
  });

  it.each([
    ['not JSON', '{'],
    ['a JSON array', '[]'],
    ['null', 'null'],
    ['no userId', stored({ userId: undefined })],
    ['an empty userId', stored({ userId: '' })],
    ['a numeric email', stored({ email: 42 })],
    ['groups that are not strings', stored({ groups: ['a', 1] })],
    ['groups as one string', stored({ groups: 'admins' })],
    ['claims as an array', stored({ claims: [] })],
    ['no tokens', stored({ tokens: undefined })],
    ['a numeric access token', stored({ tokens: { accessToken: 1 } })],
    ['an expiry as a date string', stored({ tokens: { accessTokenExpiresAt: '2026-01-01' } })],
    ['an issue time as a date string', stored({ tokens: { accessTokenIssuedAt: '2026-01-01' } })],
    ['a negative time', stored({ createdAt: -1 })],
    ['a fractional time', stored({ expiresAt: 1.5 })],
    ['an expiry before creation', stored({ expiresAt: full.createdAt - 1 })],
  ])('refuses a stored record with %s', (_label, text) => {
    expect(() => parseSessionRecord(text)).toThrow(GatehouseError);
    expect(() => parseSessionRecord(text)).toThrow(
      expect.objectContaining({ code: 'ERR_RECORD_UNREADABLE' }),
    );
  });
});

describe('sealSessionRecord and openSessionRecord', () => {
  it('round-trip a record under its session id', () => {
    expect(openSessionRecord(sealSessionRecord(full, key, ID), ring, ID)).toEqual(full);
  });

  it('keep tokens and email out of what the store holds', () => {
    const bytes = Buffer.from(sealSessionRecord(full, key, ID)).toString('latin1');
    for (const secret of ['refresh-token-value', 'access-token-value', 'alice@example.com']) {
      expect(bytes).not.toContain(secret);
    }
  });

  it('report a record that cannot be opened as an invalid session, keeping the reason', () => {
    const sealed = sealSessionRecord(full, key, ID);
    const opening = () => openSessionRecord(sealed, ring, 'BBECAwQFBgcICQoLDA0ODw');
    expect(opening).toThrow(expect.objectContaining({ code: 'ERR_SESSION_INVALID', status: 401 }));
    const error = (() => {
      try {
        return opening();
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toMatchObject({ cause: { code: 'ERR_RECORD_UNREADABLE' } });
  });

  it('report a well-sealed but malformed record as an invalid session', () => {
    const sealed = sealRecord(Buffer.from('{"userId":1}'), key, ID);
    expect(() => openSessionRecord(sealed, ring, ID)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_INVALID' }),
    );
  });
});
