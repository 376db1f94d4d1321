/**
 * The bundled development OpenID Connect provider, built on oidc-provider (its one importer), so
 * `npm start` and the integration and browser tests can sign in with no outside IdP.
 *
 * It signs in whoever picks a name on its page, with no password. It therefore listens on loopback only
 * and refuses anything else; it speaks plain http, which oidc-provider allows (its cookies are `Secure`
 * only over https). It must never be exposed beyond the machine it runs on.
 *
 * What it offers (OpenID Connect Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0): the authorization
 * code flow with PKCE S256 required (RFC 7636), `state` and `nonce`, scopes `openid email profile
 * offline_access`, refresh tokens (rotated on every use) when `offline_access` is requested, the claims
 * `email`, `email_verified`, `name` and `groups` in the ID token and from UserInfo, token revocation
 * (RFC 7009), and end-session without a confirmation page.
 */
import { generateKeyPair, randomBytes, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Account,
  Configuration,
  Grant,
  KoaContextWithOIDC,
  default as OidcProvider,
} from 'oidc-provider';
import type * as OidcProviderModule from 'oidc-provider';
import { GatehouseError } from '../shared/errors.js';
import { DevIdpCounter, type CountedEndpoint, type DevIdpCounters } from './dev-idp-counters.js';
import { isLoopbackAddress, requireLoopbackHost, urlHost, type LoopbackHost } from './dev-idp-host.js';
import { renderMessagePage, renderSignInPage, renderSigningOutPage } from './dev-idp-pages.js';
import { DevIdpStore } from './dev-idp-store.js';
import { devIdpUsers, findDevIdpUser, type DevIdpUser } from './dev-idp-users.js';

export type { DevIdpCounters } from './dev-idp-counters.js';
export type { LoopbackHost } from './dev-idp-host.js';

/** A registered relying party, in OAuth 2.0 Dynamic Client Registration (RFC 7591) metadata names. */
export interface DevIdpClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  /** How the client authenticates at the token endpoint; `client_secret_basic` unless set. */
  readonly token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post';
}

export interface DevIdpOptions {
  /** Loopback only: anything else (0.0.0.0 included) is refused. */
  readonly host: LoopbackHost;
  /** 0 picks a free port. */
  readonly port: number;
  /** The issuer identifier, an http(s) origin; `http://<host>:<port>` unless set. */
  readonly issuer?: string;
  /**
   * Instead of `issuer`: the name to put in `http://<name>:<bound port>`, for a port-0 IdP that browsers
   * reach under a test name such as `idp.example.test` (mapped to loopback).
   */
  readonly issuerHostname?: string;
  readonly clients: readonly DevIdpClient[];
  /** 3600 unless set; tests use 5 to exercise refresh. */
  readonly accessTokenTtlSeconds?: number;
  /** 3600 unless set. */
  readonly idTokenTtlSeconds?: number;
  /** 14 days unless set; also the lifetime of the grant and of the IdP's own sign-in session. */
  readonly refreshTokenTtlSeconds?: number;
  /** Where unexpected failures go (never a client's own mistake); stderr unless set. */
  readonly onError?: (error: unknown) => void;
}

export interface DevIdp {
  /** The issuer identifier, without a trailing slash. */
  readonly issuer: string;
  /** Where the server listens, e.g. `http://127.0.0.1:41234/`. */
  readonly url: URL;
  readonly counters: DevIdpCounters;
  /**
   * Deletes every refresh token issued to the user, so the next refresh_token grant with any of them is
   * answered `invalid_grant`. Returns how many there were.
   */
  revokeRefreshTokens(userId: string): number;
  close(): Promise<void>;
}

const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
const DEFAULT_ID_TOKEN_TTL_SECONDS = 3600;
const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;
/** OAuth 2.0 Security BCP (RFC 9700 §4.2.1): authorization codes live briefly. */
const AUTHORIZATION_CODE_TTL_SECONDS = 60;
const INTERACTION_TTL_SECONDS = 600;
const MAX_FORM_BYTES = 1024;

/** oidc-provider's endpoint paths (its defaults, named here so requests to them can be counted). */
const COUNTED_PATHS: ReadonlyMap<string, CountedEndpoint> = new Map([
  ['/token/revocation', 'revocation'],
  ['/me', 'userinfo'],
  ['/session/end', 'end_session'],
]);
const AUTHORIZATION_PATH = '/auth';
const INTERACTION_PATH = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const host = requireLoopbackHost(options.host);
  const onError = options.onError ?? reportToStderr;
  const server = http.createServer();
  const port = await listenOnLoopback(server, options.port, host);
  const url = new URL(`http://${urlHost(host)}:${port}/`);

  try {
    const issuer = readIssuer(issuerFor(options, url));
    const store = new DevIdpStore();
    const counters = new DevIdpCounter();
    const { default: Provider } = await importOidcProvider();
    const provider = new Provider(issuer, await configure(options, store));

    provider.on('grant.success', (ctx) => counters.countTokenRequest(grantTypeOf(ctx), true));
    provider.on('grant.error', (ctx) => counters.countTokenRequest(grantTypeOf(ctx), false));
    provider.on('server_error', (ctx, error) => {
      if (ctx.oidc.route === 'token') counters.countTokenRequest(grantTypeOf(ctx), false);
      onError(error);
    });
    provider.on('error', onError);

    const answerProvider = provider.callback();
    const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const target = new URL(req.url ?? '/', url);
      const interaction = INTERACTION_PATH.exec(target.pathname);
      if (interaction) return answerInteraction(provider, req, res, interaction[1] ?? '', interaction[2]);
      countEndpoint(counters, target.pathname);
      if (req.method === 'GET' && target.pathname === AUTHORIZATION_PATH) {
        req.url = withConsentForOfflineAccess(target);
      }
      return answerProvider(req, res);
    };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      answer(req, res).catch((error: unknown) => {
        onError(error);
        if (!res.headersSent) sendHtml(res, 500, renderMessagePage('Server error', 'Something went wrong.'));
        else res.destroy();
      });
    });

    return {
      issuer,
      url,
      counters,
      revokeRefreshTokens: (userId) =>
        store.removeWhere('RefreshToken', (payload) => payload.accountId === userId),
      close: () => closeServer(server),
    };
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

async function configure(options: DevIdpOptions, store: DevIdpStore): Promise<Configuration> {
  const refreshTokenTtl = options.refreshTokenTtlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS;
  return {
    adapter: store.adapterFor,
    clients: options.clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    })),
    jwks: { keys: [await generateSigningKey()] },
    cookies: {
      // Cookies are scoped by host, not port: prefixed names keep clear of an RP on the same loopback host.
      names: { session: 'dev_idp_session', interaction: 'dev_idp_interaction', resume: 'dev_idp_resume' },
      keys: [randomBytes(32).toString('base64url')],
    },
    // `groups` rides on `openid` so every relying party gets it without asking for a non-standard scope.
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    // Put the scope claims in the ID token as well as UserInfo (OpenID Connect Core §5.4 allows either).
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    // RFC 7636 for every client, confidential ones included (OAuth 2.0 Security BCP, RFC 9700 §2.1.1).
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // Opaque access tokens for UserInfo only; no resource servers to scope them to.
      resourceIndicators: { enabled: false },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only its own tokens; others are ignored like unknown ones.
        allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId),
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => setHtml(ctx, renderSigningOutPage(form)),
        postLogoutSuccessSource: (ctx) =>
          setHtml(ctx, renderMessagePage('Signed out', 'You are signed out of the development IdP.')),
      },
    },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      IdToken: options.idTokenTtlSeconds ?? DEFAULT_ID_TOKEN_TTL_SECONDS,
      RefreshToken: refreshTokenTtl,
      Grant: refreshTokenTtl,
      Session: refreshTokenTtl,
      Interaction: INTERACTION_TTL_SECONDS,
    },
    // A new refresh token on every use, so a relying party that refreshes twice with the same token is
    // caught: oidc-provider treats the reuse as theft and revokes the grant (RFC 9700 §4.14.2).
    rotateRefreshToken: () => true,
    loadExistingGrant: grantEveryRequestedScope,
    findAccount: (_ctx, sub) => Promise.resolve(accountFor(findDevIdpUser(sub))),
    // Relying parties call the token and UserInfo endpoints from their servers, never from a browser.
    clientBasedCORS: () => false,
    renderError: (ctx, out) =>
      setHtml(
        ctx,
        renderMessagePage('Sign-in error', [out.error, out.error_description].filter(Boolean).join(': ')),
      ),
  };
}

/**
 * Consent without a consent page: whatever a registered client asks for is granted. That is what makes
 * `offline_access` work here, since oidc-provider issues refresh tokens only for a granted scope.
 */
async function grantEveryRequestedScope(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const accountId = oidc.session?.accountId;
  if (oidc.client === undefined || accountId === undefined) return undefined;
  const clientId = oidc.client.clientId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const existing = grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId);
  const grant =
    existing?.accountId === accountId ? existing : new oidc.provider.Grant({ accountId, clientId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

function accountFor(user: DevIdpUser | undefined): Account | undefined {
  if (user === undefined) return undefined;
  const claims = {
    sub: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    name: user.name,
    groups: [...user.groups],
  };
  // oidc-provider keeps only the claims of the granted scopes.
  return { accountId: user.id, claims: () => Promise.resolve(claims) };
}

/** The sign-in page (GET), a chosen user (POST …/login, `user=<id>`) or a cancelled sign-in (POST …/abort). */
async function answerInteraction(
  provider: OidcProvider,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const expectedMethod = action === undefined ? 'GET' : 'POST';
  if (req.method !== expectedMethod) {
    res.setHeader('allow', expectedMethod);
    sendHtml(res, 405, renderMessagePage('Method not allowed', `Use ${expectedMethod} here.`));
    return;
  }
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    if (!isClientError(error)) throw error;
    details = undefined;
  }
  // The interaction is found through its cookie; a URL naming another one is a stale or forged link.
  if (details === undefined || details.uid !== uid) {
    const message = 'This sign-in has expired or was already used. Start again from the application.';
    sendHtml(res, 400, renderMessagePage('Sign-in expired', message));
    return;
  }
  if (details.prompt.name === 'consent' && action === undefined) {
    // Never a consent page: grantEveryRequestedScope grants what the client asked for.
    await provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
    return;
  }
  if (details.prompt.name !== 'login') {
    sendHtml(res, 400, renderMessagePage('Sign-in error', `Unsupported step "${details.prompt.name}".`));
    return;
  }

  if (action === undefined) {
    const clientId = details.params['client_id'];
    const page = renderSignInPage({
      signInAction: `/interaction/${uid}/login`,
      cancelAction: `/interaction/${uid}/abort`,
      clientName: typeof clientId === 'string' ? clientId : 'An application',
      users: devIdpUsers,
    });
    sendHtml(res, 200, page);
    return;
  }
  const form = await readForm(req);
  if (action === 'abort') {
    // OpenID Connect Core §3.1.2.6: the relying party receives `error=access_denied`.
    const result = { error: 'access_denied', error_description: 'the user cancelled the sign-in' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  const user = findDevIdpUser(form?.get('user') ?? '');
  if (user === undefined) {
    sendHtml(res, 400, renderMessagePage('Sign-in error', 'Choose one of the listed users.'));
    return;
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.id } },
    { mergeWithLastSubmission: false },
  );
}

/** The posted `application/x-www-form-urlencoded` body, or undefined when it is too large. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** oidc-provider's errors carry the HTTP status and whether they are the client's doing. */
function isClientError(error: unknown): boolean {
  return error instanceof Error && 'expose' in error && error.expose === true;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No script, frames or outside resources on these pages; only their own inline style.
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

function setHtml(ctx: KoaContextWithOIDC, html: string): Promise<void> {
  ctx.type = 'html';
  ctx.body = html;
  return Promise.resolve();
}

/**
 * OpenID Connect Core §11 lets a provider honour `offline_access` only with `prompt=consent`, and
 * oidc-provider drops the scope otherwise; most providers issue the refresh token anyway. Acting as if
 * consent was asked keeps this IdP as forgiving as those, so a relying party that requests
 * `offline_access` with or without `prompt=consent` gets a refresh token. `prompt=none` cannot be
 * combined with consent and is left alone.
 */
function withConsentForOfflineAccess(target: URL): string {
  const scopes = (target.searchParams.get('scope') ?? '').split(' ');
  const prompts = (target.searchParams.get('prompt') ?? '').split(' ').filter(Boolean);
  if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
    target.searchParams.set('prompt', [...prompts, 'consent'].join(' '));
  }
  return `${target.pathname}${target.search}`;
}

function grantTypeOf(ctx: KoaContextWithOIDC): string {
  const grantType = ctx.oidc.params?.['grant_type'];
  return typeof grantType === 'string' ? grantType : 'unknown';
}

function countEndpoint(counters: DevIdpCounter, path: string): void {
  const endpoint = COUNTED_PATHS.get(path);
  if (endpoint !== undefined) counters.countEndpoint(endpoint);
}

function issuerFor(options: DevIdpOptions, url: URL): string {
  if (options.issuer !== undefined && options.issuerHostname !== undefined) {
    throw new TypeError('give the development IdP an issuer or an issuerHostname, not both');
  }
  if (options.issuerHostname !== undefined) return `http://${options.issuerHostname}:${url.port}`;
  return options.issuer ?? url.origin;
}

/** An origin-only http(s) URL: oidc-provider's endpoints are served at the root of this server. */
function readIssuer(issuer: string): string {
  const parsed = URL.canParse(issuer) ? new URL(issuer) : undefined;
  if (
    parsed === undefined ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.pathname !== '/' ||
    parsed.search !== '' ||
    parsed.hash !== '' ||
    parsed.username !== '' ||
    parsed.password !== ''
  ) {
    throw new GatehouseError(
      'ERR_CONFIG_INVALID',
      `the development IdP's issuer must be an http(s) origin such as http://127.0.0.1:9000, not ${JSON.stringify(issuer)}`,
    );
  }
  return parsed.origin;
}

async function generateSigningKey(): Promise<JsonWebKey> {
  // RS256: the one ID token algorithm every OpenID provider must support (OpenID Connect Core §15.1).
  const { privateKey } = await new Promise<{ privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, key) =>
      error ? reject(error) : resolve({ privateKey: key }),
    ),
  );
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

/** Listens and checks the bound address: `localhost` could resolve to something else on an odd machine. */
async function listenOnLoopback(server: http.Server, port: number, host: LoopbackHost): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  if (!isLoopbackAddress(bound.address)) {
    await closeServer(server);
    throw new GatehouseError(
      'ERR_CONFIG_INVALID',
      `the development IdP must listen on loopback, but ${host} resolved to ${bound.address}`,
    );
  }
  return bound.port;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

let oidcProviderModule: Promise<typeof OidcProviderModule> | undefined;

/**
 * oidc-provider 9 warns on import that Node 20 is not a runtime it supports; it works on Node 20 (this
 * project's engine, covered by the dev-idp tests), so that one line is dropped while the module loads.
 * Every other warning passes through.
 */
function importOidcProvider(): Promise<typeof OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProviderModule;
}

function reportToStderr(error: unknown): void {
  console.error('development IdP error:', error);
}
