import type { WebSocketProxy } from '../proxy/upgrade.js';
import { toGatehouseError } from '../shared/errors.js';
import type { RequestContext } from './context.js';
import { decorateResponse } from './decorate-response.js';
import type { EndpointApp } from './endpoints/endpoint-app.js';
import { renderError } from './render-error.js';
import { acceptRequest } from './stages/accept-request.js';
import { answerEndpoint } from './stages/answer-endpoint.js';
import { answerPreflight } from './stages/answer-preflight.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { forwardRequest } from './stages/forward-request.js';
import { matchRoute } from './stages/match-route.js';
import { prepareUpstream } from './stages/prepare-upstream.js';
import { serveStaticFiles } from './stages/serve-static-files.js';

/** `next` hands the request to the following stage; `done` means a response is on its way. */
export type StageResult = 'next' | 'done';
export type Stage = (ctx: RequestContext) => StageResult | Promise<StageResult>;

export interface PipelineDeps {
  readonly endpoints: EndpointApp;
  readonly webSockets: WebSocketProxy;
  readonly onError: (ctx: RequestContext, error: unknown) => void;
}

/**
 * The whole request path, in order. Every request — WebSocket upgrades included — runs these stages; the
 * first one that answers ends it, and anything thrown becomes one rendered error response.
 */
export function createPipeline(deps: PipelineDeps): (ctx: RequestContext) => Promise<void> {
  const stages: readonly Stage[] = [
    acceptRequest, //               client address, Host, normalized path
    answerPreflight, //             CORS preflights on cors routes, before endpoints and authentication
    answerEndpoint(deps.endpoints), // /ping, /healthz, /readyz, sign-in and sign-out, /.pomerium/user
    matchRoute, //                  first route whose from + path matcher fit, else 404
    authenticate, //                the session the request presents, on routes that are not public
    authorize, //                   the route's access rule: go on, sign in (302/401) or 403
    serveStaticFiles, //            a file:///dir route answers from its directory
    prepareUpstream, //             upstream, rewritten path, clean request headers, credentials removed
    forwardRequest(deps.webSockets), // stream to the upstream and back, or upgrade
  ];

  return async (ctx) => {
    try {
      for (const stage of stages) {
        const result = stage(ctx);
        if ((typeof result === 'string' ? result : await result) === 'done') return;
      }
    } catch (error) {
      deps.onError(ctx, error);
      renderError(ctx.req.headers, ctx.res, toGatehouseError(error), ctx.id, (status, headers) =>
        decorateResponse(ctx, status, headers),
      );
    }
  };
}
