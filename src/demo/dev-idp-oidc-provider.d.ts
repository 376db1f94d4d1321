/**
 * The part of oidc-provider 9's API the development IdP uses (the package ships no types). Kept to what
 * src/demo/dev-idp.ts calls so a wrong guess here shows up as a failing dev-idp test, not as silent `any`.
 */
declare module 'oidc-provider' {
  import type { JsonWebKey } from 'node:crypto';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    readonly [field: string]: unknown;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata {
    readonly client_id: string;
    readonly client_secret: string;
    readonly redirect_uris: readonly string[];
    readonly post_logout_redirect_uris: readonly string[];
    readonly grant_types: readonly string[];
    readonly response_types: readonly string[];
    readonly token_endpoint_auth_method: string;
  }

  export interface Client {
    readonly clientId: string;
  }

  export interface Grant {
    readonly accountId?: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: readonly string[]): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface OidcContext {
    readonly route?: string;
    readonly params?: Readonly<Record<string, unknown>>;
    readonly client?: Client;
    readonly provider: Provider;
    readonly session?: {
      readonly accountId?: string;
      grantIdFor(clientId: string): string | undefined;
    };
    readonly result?: { readonly consent?: { readonly grantId?: string } };
    readonly requestParamOIDCScopes: ReadonlySet<string>;
    readonly requestParamClaims: ReadonlySet<string>;
  }

  /** Koa's context with oidc-provider's additions. */
  export interface KoaContextWithOIDC {
    readonly oidc: OidcContext;
    type: string;
    body: unknown;
    status: number;
  }

  export interface Account {
    readonly accountId: string;
    claims(use: string, scope: string): Promise<Readonly<Record<string, unknown>>>;
  }

  export interface Configuration {
    readonly adapter: (model: string) => Adapter;
    readonly clients: readonly ClientMetadata[];
    readonly jwks: { readonly keys: readonly JsonWebKey[] };
    readonly cookies: {
      readonly names: { readonly session: string; readonly interaction: string; readonly resume: string };
      readonly keys: readonly string[];
    };
    readonly claims: Readonly<Record<string, readonly string[]>>;
    readonly scopes: readonly string[];
    readonly conformIdTokenClaims: boolean;
    readonly responseTypes: readonly string[];
    readonly pkce: { readonly required: () => boolean };
    readonly features: {
      readonly devInteractions: { readonly enabled: boolean };
      readonly resourceIndicators: { readonly enabled: boolean };
      readonly revocation: {
        readonly enabled: boolean;
        readonly allowedPolicy: (
          ctx: KoaContextWithOIDC,
          client: Client,
          token: { readonly clientId?: string },
        ) => Promise<boolean>;
      };
      readonly userinfo: { readonly enabled: boolean };
      readonly rpInitiatedLogout: {
        readonly enabled: boolean;
        readonly logoutSource: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
        readonly postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => Promise<void>;
      };
    };
    readonly ttl: Readonly<Record<string, number>>;
    readonly rotateRefreshToken: () => boolean;
    readonly loadExistingGrant: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
    readonly findAccount: (ctx: KoaContextWithOIDC, sub: string) => Promise<Account | undefined>;
    readonly clientBasedCORS: () => boolean;
    readonly renderError: (
      ctx: KoaContextWithOIDC,
      out: Readonly<Record<string, string>>,
      error: Error,
    ) => Promise<void>;
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { readonly name: string };
    readonly params: Readonly<Record<string, unknown>>;
  }

  export type InteractionResult =
    | { readonly login: { readonly accountId: string } }
    | { readonly consent: Readonly<Record<string, never>> }
    | { readonly error: string; readonly error_description: string };

  export interface ProviderEvents {
    'grant.success': [ctx: KoaContextWithOIDC];
    'grant.error': [ctx: KoaContextWithOIDC, error: Error];
    server_error: [ctx: KoaContextWithOIDC, error: Error];
    /** Koa's own: an error that escaped every middleware. */
    error: [error: Error];
  }

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly Grant: GrantConstructor;
    /** The Node request listener (Koa's `app.callback()`). */
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    on<E extends keyof ProviderEvents>(event: E, listener: (...args: ProviderEvents[E]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options: { readonly mergeWithLastSubmission: boolean },
    ): Promise<void>;
  }
}
