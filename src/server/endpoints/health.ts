import type { RequestContext } from '../context.js';
import type { Endpoint } from './endpoint-app.js';
import { respond, respondJson } from './respond.js';

/**
 * Liveness and readiness, answered on every host (Pomerium's `/ping`, Kubernetes' `/healthz` and
 * `/readyz`). Readiness means the process can serve: a config is loaded, its routes compiled and, when
 * sign-in is configured, the session store answers.
 */
export const healthEndpoints: readonly Endpoint[] = [
  { method: 'GET', path: '/ping', handle: (ctx) => respond(ctx, 200, 'text/plain; charset=utf-8', 'OK\n') },
  { method: 'GET', path: '/healthz', handle: (ctx) => respondJson(ctx, 200, { status: 'ok' }) },
  { method: 'GET', path: '/readyz', handle: readiness },
];

async function readiness(ctx: RequestContext): Promise<void> {
  const { store, routes } = ctx.runtime;
  if (store !== undefined) {
    try {
      await store.ping();
    } catch {
      respondJson(ctx, 503, { status: 'unavailable', reason: 'the session store does not answer' });
      return;
    }
  }
  respondJson(ctx, 200, { status: 'ready', routes: routes.length });
}
