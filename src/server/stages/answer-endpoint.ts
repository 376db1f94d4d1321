import type { RequestContext } from '../context.js';
import type { EndpointApp } from '../endpoints/endpoint-app.js';
import type { Stage, StageResult } from '../pipeline.js';

/**
 * Gatehouse's own paths (`/ping`, `/healthz`, `/readyz`, …) are answered here on every host. Proxied
 * requests pass straight through, synchronously: this stage runs for every request.
 */
export function answerEndpoint(endpoints: EndpointApp): Stage {
  return (ctx: RequestContext): StageResult | Promise<StageResult> => {
    if (!endpoints.isReserved(ctx)) return 'next';
    return endpoints.handle(ctx).then(() => 'done' as const);
  };
}
