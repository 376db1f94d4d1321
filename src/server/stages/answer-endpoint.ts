import type { RequestContext } from '../context.js';
import type { EndpointApp } from '../endpoints/endpoint-app.js';
import type { Stage, StageResult } from '../pipeline.js';

/** Gatehouse's own paths (`/ping`, `/healthz`, `/readyz`, …) are answered here on every host. */
export function answerEndpoint(endpoints: EndpointApp): Stage {
  return async (ctx: RequestContext): Promise<StageResult> => {
    if (!endpoints.isReserved(ctx.path)) return 'next';
    await endpoints.handle(ctx);
    return 'done';
  };
}
