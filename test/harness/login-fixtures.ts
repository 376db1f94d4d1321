/**
 * The login attack fixtures (test/fixtures/login/*.json) and how their symbolic values become the
 * strings a test sends, shared by the unit tests beside src/auth and the integration test against the
 * development IdP.
 */
import { readFileSync } from 'node:fs';

export interface CallbackAttack {
  readonly name: string;
  readonly state: string;
  readonly csrfCookie: string;
  readonly expect: 'ERR_LOGIN_STATE_INVALID' | 'ERR_LOGIN_CSRF_INVALID';
}

export interface HandoffAttack {
  readonly name: string;
  readonly code: string | null;
  readonly host: string;
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/login/${name}`, import.meta.url), 'utf8')) as T;
}

export const callbackAttacks = readFixture<{ cases: CallbackAttack[] }>('callback-attacks.json').cases;

export const handoffFixture = readFixture<{ issuedFor: string; cases: HandoffAttack[] }>(
  'handoff-attacks.json',
);

/** Two transactions' states and CSRF cookie values: this browser's and someone else's. */
export interface TwoLogins {
  readonly genuine: { readonly state: string; readonly csrfCookieValue: string };
  readonly other: { readonly state: string; readonly csrfCookieValue: string };
}

/** The `state` and CSRF cookie value an attack case sends. */
export function callbackOf(attack: CallbackAttack, logins: TwoLogins) {
  const state = (() => {
    switch (attack.state) {
      case 'absent':
        return undefined;
      case 'genuine':
      case 'other':
        return logins[attack.state].state;
      default:
        return attack.state;
    }
  })();
  const genuineCookie = logins.genuine.csrfCookieValue;
  const csrfCookieValue = (() => {
    switch (attack.csrfCookie) {
      case 'absent':
        return undefined;
      case 'genuine':
      case 'other':
        return logins[attack.csrfCookie].csrfCookieValue;
      case '=state':
        return logins.genuine.state;
      case '=genuine+x':
        return `${genuineCookie}x`;
      case '=genuine-1':
        return genuineCookie.slice(0, -1);
      default:
        return attack.csrfCookie;
    }
  })();
  return { state, csrfCookieValue };
}

/** Changes one base64url character so the result is still well-formed. */
function flip(character: string | undefined): string {
  return character === 'A' ? 'B' : 'A';
}

/** The code an attack case presents, given the genuine one and one minted under another secret. */
export function handoffCodeOf(
  attack: HandoffAttack,
  genuine: string,
  otherSecret: string,
): string | undefined {
  switch (attack.code) {
    case null:
      return undefined;
    case '=genuine':
      return genuine;
    case '=genuine-tag-flipped':
      return `${genuine.slice(0, -1)}${flip(genuine.at(-1))}`;
    case '=genuine-id-flipped':
      return `${flip(genuine[0])}${genuine.slice(1)}`;
    case '=genuine+x':
      return `${genuine}x`;
    case '=other-secret':
      return otherSecret;
    default:
      return attack.code;
  }
}

export function handoffHostOf(attack: HandoffAttack): string {
  return attack.host === '=issued' ? handoffFixture.issuedFor : attack.host;
}
