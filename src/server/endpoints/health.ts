import type { Endpoint } from './endpoint-app.js';
import { respond, respondJson } from './respond.js';

/**
 * Liveness and readiness, answered on every host (Pomerium's `/ping`, Kubernetes' `/healthz` and
 * `/readyz`). Readiness means the process can serve: a config is loaded and its routes compiled.
 */
export const healthEndpoints: readonly Endpoint[] = [
  { method: 'GET', path: '/ping', handle: (ctx) => respond(ctx, 200, 'text/plain; charset=utf-8', 'OK\n') },
  { method: 'GET', path: '/healthz', handle: (ctx) => respondJson(ctx, 200, { status: 'ok' }) },
  {
    method: 'GET',
    path: '/readyz',
    handle: (ctx) => respondJson(ctx, 200, { status: 'ready', routes: ctx.runtime.routes.length }),
  },
];
