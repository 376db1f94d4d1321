/**
 * The server-side state of a sign-in in progress (DESIGN §4.1): where to return, for which host, and the
 * secrets of the authorization request — the PKCE verifier (RFC 7636) and the nonce (OpenID Connect Core
 * §3.1.2.1). It is sealed (AES-256-GCM) in the store under `login:<state>` for ten minutes and taken, not
 * read, at the callback, so each transaction completes at most once, on any process.
 *
 * `state` is the transaction id: 128 random bits, unguessable (RFC 6749 §10.12). The browser holds only a
 * CSRF cookie whose value is an HMAC of the state under a key derived from `cookie_secret`, so the cookie
 * is worthless without its state and cannot be minted for a state the browser did not start: a callback
 * URL from an attacker's own sign-in (login CSRF) fails in the victim's browser.
 *
 * Each transaction has its own cookie, named after its state (`<cookie_name>_csrf_<state>`), rather than
 * one cookie listing every pending binding: two tabs starting a sign-in at the same moment would each read
 * the list before the other's `Set-Cookie` arrived, and the later answer would drop the earlier tab's
 * binding. Separate names cannot race. Nothing accumulates: the callback clears its own cookie, and an
 * abandoned one expires with its transaction.
 *
 * The CSRF binding is checked before the store is touched: a callback without the right cookie fails
 * without consuming the transaction, so it cannot be used to break the genuine browser's sign-in.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KvStore } from '../store/kv-store.js';
import { GatehouseError } from '../shared/errors.js';
import { isMacOf, macOf } from './keyed-mac.js';
import { openSealedRecord, sealRecord } from './sealed-record.js';
import type { AuthKeys } from './secrets.js';

/** DESIGN §4.1: long enough to sign in at the IdP, short enough that an abandoned one goes away. */
export const LOGIN_TRANSACTION_TTL_MS = 10 * 60 * 1000;

const STATE_BYTES = 16;
const STATE = /^[A-Za-z0-9_-]{22}$/;
/** RFC 7636 §4.1 recommends a 32-octet random verifier, base64url-encoded to 43 characters. */
const CODE_VERIFIER_BYTES = 32;

export type LoginRequest = {
  /** The URL the proxy saw, where the user goes after signing in. Minted by the proxy, never by the user. */
  readonly returnUrl: string;
  /** The route's host, which decides between the shared cookie and the cross-apex hand-off. */
  readonly routeHost: string;
} & (
  | { readonly mode: 'cookie' }
  /** `/.pomerium/api/v1/login`: the browser ends on `programmaticRedirect` with `pomerium_jwt`. */
  | { readonly mode: 'programmatic'; readonly programmaticRedirect: string }
);

export interface CsrfCookie {
  readonly name: string;
  readonly value: string;
  readonly maxAgeSeconds: number;
}

export interface BegunLogin {
  /** The transaction id, sent as the authorization request's `state`. */
  readonly state: string;
  readonly nonce: string;
  /** `code_challenge` for `code_challenge_method=S256`. */
  readonly codeChallenge: string;
  /**
   * Set it on the callback host with `Path=<callback path>`, `HttpOnly`, `Secure` and `SameSite=Lax`: the
   * callback is a cross-site top-level navigation from the IdP, which `Strict` cookies would miss.
   */
  readonly csrfCookie: CsrfCookie;
}

/** A taken transaction: what the code redemption needs and where the user goes next. */
export type PendingLogin = LoginRequest & {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
};

export interface LoginCallback {
  /** The callback's `state` parameter, as received. */
  readonly state: string | undefined;
  /** The value of the cookie named by `csrfCookieName(state)`; undefined when absent or ambiguous. */
  readonly csrfCookieValue: string | undefined;
}

export interface LoginTransactionsOptions {
  readonly store: KvStore;
  readonly keys: Pick<AuthKeys, 'sessionRecord' | 'csrfBinding'>;
  /** `cookie_name`; the CSRF cookies are named after it. */
  readonly cookieName: string;
}

const randomToken = (bytes: number) => randomBytes(bytes).toString('base64url');
const storeKey = (state: string) => `login:${state}`;

const stateInvalid = (reason: string, cause?: unknown) =>
  new GatehouseError(
    'ERR_LOGIN_STATE_INVALID',
    'this sign-in has expired or was already used; please start again',
    {
      cause: cause ?? new Error(reason),
    },
  );

const csrfInvalid = (reason: string) =>
  new GatehouseError(
    'ERR_LOGIN_CSRF_INVALID',
    'this sign-in was not started in this browser; please start again',
    {
      cause: new Error(reason),
    },
  );

export class LoginTransactions {
  readonly #store: KvStore;
  readonly #keys: LoginTransactionsOptions['keys'];
  readonly #cookieName: string;

  constructor(options: LoginTransactionsOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#cookieName = options.cookieName;
  }

  /** Stores a new transaction and returns what the authorization request and the browser need. */
  async beginLogin(request: LoginRequest): Promise<BegunLogin> {
    const state = randomToken(STATE_BYTES);
    const nonce = randomToken(STATE_BYTES);
    const codeVerifier = randomToken(CODE_VERIFIER_BYTES);
    const pending: PendingLogin = { ...request, state, nonce, codeVerifier };
    const sealed = sealRecord(
      Buffer.from(JSON.stringify(pending), 'utf8'),
      this.#keys.sessionRecord.current,
      storeKey(state),
    );
    await this.#store.set(storeKey(state), sealed, LOGIN_TRANSACTION_TTL_MS);
    return {
      state,
      nonce,
      // RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))).
      codeChallenge: createHash('sha256').update(codeVerifier, 'ascii').digest('base64url'),
      csrfCookie: {
        name: this.#csrfCookieNameOf(state),
        value: macOf(this.#keys.csrfBinding, state),
        maxAgeSeconds: LOGIN_TRANSACTION_TTL_MS / 1000,
      },
    };
  }

  /** The CSRF cookie that belongs to a callback's `state`, or undefined when the state is malformed. */
  csrfCookieName(state: string | undefined): string | undefined {
    return state !== undefined && STATE.test(state) ? this.#csrfCookieNameOf(state) : undefined;
  }

  /**
   * Checks the callback's CSRF binding, then takes its transaction (single use, atomic across processes).
   * Only after this succeeds may the authorization code be redeemed.
   */
  async completeLogin(callback: LoginCallback): Promise<PendingLogin> {
    const { state, csrfCookieValue } = callback;
    if (state === undefined || !STATE.test(state))
      throw stateInvalid('the state parameter is missing or malformed');
    if (csrfCookieValue === undefined) throw csrfInvalid('no CSRF cookie for this state');
    if (!isMacOf(csrfCookieValue, state, [this.#keys.csrfBinding])) {
      throw csrfInvalid('the CSRF cookie does not belong to this state');
    }
    const sealed = await this.#store.take(storeKey(state));
    if (sealed === undefined)
      throw stateInvalid('no transaction for this state: expired, already used or never started');
    let pending: PendingLogin;
    try {
      const plaintext = openSealedRecord(sealed, this.#keys.sessionRecord, storeKey(state));
      pending = parsePendingLogin(Buffer.from(plaintext).toString('utf8'));
    } catch (error) {
      throw stateInvalid('the stored transaction is unreadable', error);
    }
    if (pending.state !== state) throw stateInvalid('the stored transaction names another state');
    return pending;
  }

  #csrfCookieNameOf(state: string): string {
    return `${this.#cookieName}_csrf_${state}`;
  }
}

/** A store is outside input too: the stored transaction is checked field by field. */
function parsePendingLogin(text: string): PendingLogin {
  const fields: unknown = JSON.parse(text);
  if (typeof fields !== 'object' || fields === null) throw new Error('not an object');
  const read = (name: string): string => {
    const value = (fields as Record<string, unknown>)[name];
    if (typeof value !== 'string') throw new Error(`${name} must be a string`);
    return value;
  };
  const common = {
    returnUrl: read('returnUrl'),
    routeHost: read('routeHost'),
    state: read('state'),
    nonce: read('nonce'),
    codeVerifier: read('codeVerifier'),
  };
  const mode = read('mode');
  if (mode === 'cookie') return { ...common, mode };
  if (mode === 'programmatic') return { ...common, mode, programmaticRedirect: read('programmaticRedirect') };
  throw new Error(`unknown mode ${JSON.stringify(mode)}`);
}
