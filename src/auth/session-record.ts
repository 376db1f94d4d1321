/**
 * The server-side session (DESIGN §3): who signed in, what the IdP said, and the IdP's tokens. Stored as
 * JSON inside a sealed envelope; what comes back from the store is checked field by field before use,
 * because a store is outside input too (another version of Gatehouse, an operator's edit, corruption).
 * Fields this version does not know are ignored, so replicas of different versions can share a store.
 */
import { GatehouseError, isGatehouseError } from '../shared/errors.js';
import { openSealedRecord, sealRecord } from './sealed-record.js';
import type { KeyRing } from './secrets.js';

export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The IdP's tokens. Times are milliseconds since the epoch. */
export interface IdpTokens {
  readonly idToken?: string;
  readonly idTokenExpiresAt?: number;
  readonly accessToken?: string;
  /**
   * When the access token arrived from the IdP, so its lifetime is known and refresh can start halfway
   * through a short-lived one. Absent in records written before it was kept.
   */
  readonly accessTokenIssuedAt?: number;
  readonly accessTokenExpiresAt?: number;
  readonly refreshToken?: string;
  /** Only some IdPs say (Keycloak's `refresh_expires_in`). */
  readonly refreshTokenExpiresAt?: number;
}

/** Who signed in and what the IdP said: the part of a session that comes from the IdP. */
export interface SignedInUser {
  /** The IdP's `sub`. */
  readonly userId: string;
  readonly email?: string;
  readonly name?: string;
  /** From the IdP's `groups` claim; empty when it sends none. */
  readonly groups: readonly string[];
  /** ID token and UserInfo claims, merged. */
  readonly claims: { readonly [key: string]: JsonValue };
  readonly tokens: IdpTokens;
}

export interface SessionRecord extends SignedInUser {
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Milliseconds since the epoch; the session token's `exp`. */
  readonly expiresAt: number;
}

export function serializeSessionRecord(record: SessionRecord): string {
  return JSON.stringify(record);
}

type Fields = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireObject(value: unknown, path: string): Fields {
  if (!isObject(value)) throw new Error(`${path} must be an object`);
  return value;
}

function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new Error(`${path} must be a string`);
  return value;
}

function requireTime(value: unknown, path: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new Error(`${path} must be milliseconds since the epoch`);
  }
  return value as number;
}

/** Copies the optional fields that are present, checking each. */
function optional<T>(
  fields: Fields,
  names: readonly string[],
  check: (value: unknown, path: string) => T,
  path: string,
): Record<string, T> {
  const present: Record<string, T> = {};
  for (const name of names) {
    if (fields[name] !== undefined) present[name] = check(fields[name], `${path}${name}`);
  }
  return present;
}

function readTokens(value: unknown): IdpTokens {
  const fields = requireObject(value, 'tokens');
  return {
    ...optional(fields, ['idToken', 'accessToken', 'refreshToken'], requireString, 'tokens.'),
    ...optional(
      fields,
      ['idTokenExpiresAt', 'accessTokenIssuedAt', 'accessTokenExpiresAt', 'refreshTokenExpiresAt'],
      requireTime,
      'tokens.',
    ),
  };
}

function readGroups(value: unknown): string[] {
  if (!Array.isArray(value)) throw new Error('groups must be an array');
  return value.map((group, index) => requireString(group, `groups[${index}]`));
}

function readRecord(value: unknown): SessionRecord {
  const fields = requireObject(value, 'the record');
  const record: SessionRecord = {
    userId: requireString(fields.userId, 'userId'),
    ...optional(fields, ['email', 'name'], requireString, ''),
    groups: readGroups(fields.groups),
    // JSON.parse only produces JSON values, so an object here is a JSON object.
    claims: requireObject(fields.claims, 'claims') as SessionRecord['claims'],
    tokens: readTokens(fields.tokens),
    createdAt: requireTime(fields.createdAt, 'createdAt'),
    expiresAt: requireTime(fields.expiresAt, 'expiresAt'),
  };
  if (record.userId === '') throw new Error('userId is empty');
  if (record.expiresAt < record.createdAt) throw new Error('expiresAt is before createdAt');
  return record;
}

const unreadable = (cause: unknown) =>
  new GatehouseError('ERR_RECORD_UNREADABLE', 'a stored session record is malformed', { cause });

/** Parses and checks a stored record; ERR_RECORD_UNREADABLE when it is not one. */
export function parseSessionRecord(text: string): SessionRecord {
  try {
    return readRecord(JSON.parse(text));
  } catch (error) {
    throw unreadable(error);
  }
}

/** Encrypts a record for the store under its session id. */
export function sealSessionRecord(record: SessionRecord, key: Uint8Array, sessionId: string): Uint8Array {
  return sealRecord(Buffer.from(serializeSessionRecord(record), 'utf8'), key, sessionId);
}

/**
 * Decrypts and parses a stored record. A record that cannot be read (altered, sealed with a key no longer
 * configured, malformed) is a session that no longer exists: ERR_SESSION_INVALID, so the user signs in
 * again, with the reason kept as `cause`.
 */
export function openSessionRecord(sealed: Uint8Array, keys: KeyRing, sessionId: string): SessionRecord {
  try {
    return parseSessionRecord(Buffer.from(openSealedRecord(sealed, keys, sessionId)).toString('utf8'));
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    throw new GatehouseError('ERR_SESSION_INVALID', 'the session is no longer valid', { cause: error });
  }
}
