import express from 'express';
import { GatehouseError, toGatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';

export type EndpointMethod = 'GET' | 'POST';

/** One of Gatehouse's own endpoints; handlers write to `ctx.res` and may throw GatehouseErrors. */
export interface Endpoint {
  readonly method: EndpointMethod;
  readonly path: string;
  readonly handle: (ctx: RequestContext) => void | Promise<void>;
  /**
   * Whether the path is Gatehouse's on this request; when false it goes to the route like any other path.
   * Absent: always. (`/oauth2/*` belongs to Gatehouse only where sign-in needs it, so an upstream app with
   * its own OAuth callback keeps working behind a public route.)
   */
  readonly reservedFor?: (ctx: RequestContext) => boolean;
}

export interface EndpointApp {
  /** Whether the request's normalized path belongs to Gatehouse rather than to any route's upstream. */
  isReserved(ctx: RequestContext): boolean;
  /** Answers the request; resolves once the handler finished, rejects with what it threw. */
  handle(ctx: RequestContext): Promise<void>;
}

/**
 * Gatehouse's own endpoints behind express (the only importer of express), used for them alone: proxied
 * requests never pass through express, so its per-request cost stays off the hot path. GET endpoints
 * answer HEAD too; a known path with another method gets 405 and `Allow` (RFC 9110 §15.5.6).
 */
export function createEndpointApp(endpoints: readonly Endpoint[]): EndpointApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const pending = new WeakMap<object, Exchange>();
  const exchangeOf = (req: object): Exchange => {
    const exchange = pending.get(req);
    if (!exchange) throw new TypeError('endpoint request without a context');
    return exchange;
  };

  for (const endpoint of endpoints) {
    const register = endpoint.method === 'GET' ? app.get.bind(app) : app.post.bind(app);
    register(endpoint.path, (req) => {
      const { ctx, settle } = exchangeOf(req);
      Promise.resolve(endpoint.handle(ctx)).then(() => settle(undefined), settle);
    });
  }
  const paths = new Set(endpoints.map((endpoint) => endpoint.path));
  const conditions = new Map<string, (ctx: RequestContext) => boolean>();
  for (const { path, reservedFor } of endpoints) if (reservedFor) conditions.set(path, reservedFor);
  for (const path of paths) {
    const methods = endpoints.filter((endpoint) => endpoint.path === path).map((endpoint) => endpoint.method);
    const allow = [...new Set([...methods, ...(methods.includes('GET') ? ['HEAD'] : [])])].join(', ');
    app.all(path, (req) => {
      exchangeOf(req).settle(
        new GatehouseError('ERR_METHOD_NOT_ALLOWED', `Use ${allow} for this endpoint.`, {
          headers: { allow },
        }),
      );
    });
  }

  return {
    isReserved: (ctx) => paths.has(ctx.path) && (conditions.get(ctx.path)?.(ctx) ?? true),
    handle: (ctx) =>
      new Promise<void>((resolve, reject) => {
        const settle = (error: unknown) => {
          if (error === undefined) resolve();
          else reject(toGatehouseError(error));
        };
        pending.set(ctx.req, { ctx, settle });
        // Express routes on req.url; hand it the normalized path so it sees what the pipeline saw.
        ctx.req.url = ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`;
        // Express types its own request/response subclasses; it upgrades Node's objects on entry.
        app(ctx.req as express.Request, ctx.res as express.Response, settle);
      }),
  };
}

interface Exchange {
  readonly ctx: RequestContext;
  /** Ends the endpoint's part: `undefined` when it answered, otherwise what went wrong. */
  readonly settle: (error: unknown) => void;
}
