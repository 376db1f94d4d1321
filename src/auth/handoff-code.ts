/**
 * Cross-apex hand-off (DESIGN §4.1): after signing in on the callback host, a user whose route host lies
 * outside `cookie_domain` is sent to `https://<route host>/.pomerium/callback?code=…`, which exchanges the
 * code for the session token and sets a host-only cookie there.
 *
 * The code is `<id>.<tag>`: 128 random bits naming a sealed entry in the store (`handoff:<id>`, 60
 * seconds, taken on use so it works once on any process) and an HMAC of the id and the route host under a
 * key derived from `shared_secret`. The tag lets a forged or mistyped code, or one presented on another
 * host, be refused before the store is asked, and without consuming the genuine code. The session token
 * inside is sealed like every other record, so a store dump reveals none.
 */
import { randomBytes } from 'node:crypto';
import type { KvStore } from '../store/kv-store.js';
import { GatehouseError } from '../shared/errors.js';
import { isMacOf, macOf } from './keyed-mac.js';
import { openSealedRecord, sealRecord } from './sealed-record.js';
import type { AuthKeys } from './secrets.js';

/** Long enough for one redirect, short enough that a code in a log or history is already dead. */
export const HANDOFF_CODE_TTL_MS = 60 * 1000;

const ID_BYTES = 16;
const HANDOFF_CODE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface HandoffPayload {
  readonly sessionToken: string;
  /** Where the route host sends the user once its cookie is set; minted by the proxy. */
  readonly returnUrl: string;
}

export interface HandoffCodesOptions {
  readonly store: KvStore;
  readonly keys: Pick<AuthKeys, 'handoffCode' | 'sessionRecord'>;
}

const storeKey = (id: string) => `handoff:${id}`;
/** Host names compare case-insensitively (RFC 3986 §3.2.2); the newline cannot occur in a host or an id. */
const taggedMessage = (id: string, routeHost: string) => `${id}\n${routeHost.toLowerCase()}`;

const invalid = (reason: string, cause?: unknown) =>
  new GatehouseError(
    'ERR_HANDOFF_INVALID',
    'this sign-in link has expired or was already used; please sign in again',
    {
      cause: cause ?? new Error(reason),
    },
  );

export class HandoffCodes {
  readonly #store: KvStore;
  readonly #keys: HandoffCodesOptions['keys'];

  constructor(options: HandoffCodesOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
  }

  /** A single-use code, good for 60 seconds on `routeHost` only. */
  async issueHandoff(payload: HandoffPayload, routeHost: string): Promise<string> {
    const id = randomBytes(ID_BYTES).toString('base64url');
    const stored = { ...payload, routeHost: routeHost.toLowerCase() };
    const sealed = sealRecord(
      Buffer.from(JSON.stringify(stored), 'utf8'),
      this.#keys.sessionRecord.current,
      storeKey(id),
    );
    await this.#store.set(storeKey(id), sealed, HANDOFF_CODE_TTL_MS);
    return `${id}.${macOf(this.#keys.handoffCode.current, taggedMessage(id, routeHost))}`;
  }

  /** The payload of a code issued for `routeHost`; ERR_HANDOFF_INVALID when forged, expired or reused. */
  async redeemHandoff(code: string | undefined, routeHost: string): Promise<HandoffPayload> {
    const [, id, tag] = HANDOFF_CODE.exec(code ?? '') ?? [];
    if (id === undefined || tag === undefined) throw invalid('the code is missing or malformed');
    const { current, previous } = this.#keys.handoffCode;
    if (!isMacOf(tag, taggedMessage(id, routeHost), [current, ...previous])) {
      throw invalid('the code was not issued by this Gatehouse for this host');
    }
    const sealed = await this.#store.take(storeKey(id));
    if (sealed === undefined) throw invalid('the code has expired or was already used');
    let stored: HandoffPayload & { readonly routeHost: string };
    try {
      stored = parseStoredHandoff(
        Buffer.from(openSealedRecord(sealed, this.#keys.sessionRecord, storeKey(id))).toString('utf8'),
      );
    } catch (error) {
      throw invalid('the stored hand-off is unreadable', error);
    }
    if (stored.routeHost !== routeHost.toLowerCase()) throw invalid('the code was issued for another host');
    return { sessionToken: stored.sessionToken, returnUrl: stored.returnUrl };
  }
}

function parseStoredHandoff(text: string): HandoffPayload & { readonly routeHost: string } {
  const fields: unknown = JSON.parse(text);
  if (typeof fields !== 'object' || fields === null) throw new Error('not an object');
  const { sessionToken, returnUrl, routeHost } = fields as Record<string, unknown>;
  if (typeof sessionToken !== 'string' || typeof returnUrl !== 'string' || typeof routeHost !== 'string') {
    throw new Error('sessionToken, returnUrl and routeHost must be strings');
  }
  return { sessionToken, returnUrl, routeHost };
}
