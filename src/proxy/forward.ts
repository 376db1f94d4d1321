/**
 * Forwards one HTTP request to its upstream and streams the answer back. Bodies flow chunk by chunk in
 * both directions with backpressure (a paused client pauses the upstream read and vice versa), so memory
 * stays flat whatever the body size. Built directly on undici's dispatch protocol: no intermediate
 * stream objects on the response side, one handler object per request.
 *
 * Outcomes:
 * - the upstream answered: resolves `{status, responseStarted: true}` once the body has been written;
 * - it failed before any response header was written: rejects with the GatehouseError from
 *   `toUpstreamError` (502/504), or ERR_REQUEST_TIMEOUT (408) when the client's upload stalled for
 *   `idleTimeoutMs` — the caller renders the error page;
 * - it failed after the response started: the client response is destroyed (the client sees a truncated
 *   message) and the promise RESOLVES `{status, responseStarted: true, error}` — there is nothing left
 *   to render, only something to log;
 * - the client went away: the upstream request is aborted and the promise resolves with the upstream's
 *   status, or 499 (nginx's "client closed request") when none had arrived.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import type { UpstreamUrl } from '../config/urls.js';
import { GatehouseError } from '../shared/errors.js';
import { toClientResponseHeaders } from './response-headers.js';
import { toUpstreamError } from './upstream-error.js';
import type { UpstreamController, UpstreamHandler, UpstreamPool } from './upstream-pool.js';

export interface ForwardPlan {
  pool: UpstreamPool;
  /** From `pool.next()`. */
  target: UpstreamUrl;
  /** Normalized and rewritten request path; `target.basePath` is prepended here. */
  path: string;
  /** Without `?`; `''` when there is none. */
  query: string;
  /** From buildUpstreamRequestHeaders. */
  headers: Record<string, string | string[]>;
  /** A request-body upload that stalls this long is aborted; 0 disables. */
  idleTimeoutMs: number;
  /** Edits the response headers (security headers, request id, CORS) before they are written. */
  decorateResponse(status: number, headers: Record<string, string | string[]>): void;
}

export interface ForwardResult {
  status: number;
  /** Whether response headers reached the client: if so, no error page can be written any more. */
  responseStarted: boolean;
  /** An upstream failure after the response had started, for the log. */
  error?: GatehouseError;
}

/** nginx's "client closed request", the status logged when the client left before any answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** RFC 9112 §6.3: a request has a body only when it announces one. */
function hasBody(req: IncomingMessage): boolean {
  const { headers } = req;
  const contentLength = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength !== '0');
}

/**
 * The request body on its way upstream, between `req` and undici. It watches for a client that stops
 * sending, and it shields the client connection: undici destroys the body it was given when the upstream
 * fails, and destroying `req` itself would reset the client before it could see the 502.
 */
class UploadBody extends Transform {
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    idleTimeoutMs: number,
    private readonly onStall: () => void,
  ) {
    super();
    this.timer = idleTimeoutMs > 0 ? setTimeout(this.checkStall, idleTimeoutMs) : null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.timer?.refresh();
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.stopWatching();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWatching();
    callback(error);
  }

  stopWatching(): void {
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private readonly checkStall = (): void => {
    // Chunks still queued here mean the upstream is not reading; the route's `timeout` covers that.
    if (this.readableLength > 0 || this.writableLength > 0) {
      this.timer?.refresh();
      return;
    }
    this.onStall();
  };
}

class Exchange implements UpstreamHandler {
  private controller: UpstreamController | null = null;
  /** Why the upstream request must stop, kept until undici hands out its controller. */
  private abortReason: Error | null = null;
  private status = 0;
  private settled = false;
  private upload: UploadBody | null = null;
  private resumeOnDrain: (() => void) | null = null;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly plan: ForwardPlan,
    private readonly resolve: (result: ForwardResult) => void,
    private readonly reject: (error: GatehouseError) => void,
  ) {}

  start(): void {
    const { req, res, plan } = this;
    if (res.destroyed) {
      this.settle({ status: CLIENT_CLOSED_REQUEST, responseStarted: false });
      return;
    }
    res.on('close', this.onClientClose);
    let body: UploadBody | null = null;
    if (hasBody(req)) {
      body = new UploadBody(plan.idleTimeoutMs, () => this.onUploadStall());
      this.upload = body;
      req.pipe(body);
    }
    const { target, query } = plan;
    const path = query === '' ? target.basePath + plan.path : `${target.basePath}${plan.path}?${query}`;
    plan.pool.dispatch({ target, method: req.method ?? 'GET', path, headers: plan.headers, body }, this);
  }

  onRequestStart(controller: UpstreamController): void {
    this.controller = controller;
    if (this.abortReason !== null) controller.abort(this.abortReason);
  }

  onResponseStart(
    controller: UpstreamController,
    statusCode: number,
    headers: Record<string, unknown>,
  ): void {
    // 1xx interim responses are not relayed: Node answers `Expect: 100-continue` itself.
    if (statusCode < 200 || this.settled) return;
    this.status = statusCode;
    const responseHeaders = toClientResponseHeaders(headers as Record<string, string | string[] | undefined>);
    try {
      this.plan.decorateResponse(statusCode, responseHeaders);
      this.res.writeHead(statusCode, responseHeaders);
    } catch (error) {
      controller.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    if (this.res.write(chunk)) return;
    controller.pause();
    if (this.resumeOnDrain === null) {
      this.resumeOnDrain = () => controller.resume();
      this.res.on('drain', this.resumeOnDrain);
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.res.end();
    this.settle({ status: this.status, responseStarted: true });
  }

  onResponseError(_controller: UpstreamController, error: Error): void {
    if (!this.settled) this.fail(toUpstreamError(error));
  }

  private readonly onClientClose = (): void => {
    if (this.settled || this.res.writableFinished) return;
    this.settle({
      status: this.status === 0 ? CLIENT_CLOSED_REQUEST : this.status,
      responseStarted: this.res.headersSent,
    });
    this.abortUpstream(new Error('the client closed the connection'));
  };

  private onUploadStall(): void {
    if (this.settled) return;
    const error = new GatehouseError('ERR_REQUEST_TIMEOUT', 'the request body stalled');
    this.fail(error);
    this.abortUpstream(error);
  }

  private fail(error: GatehouseError): void {
    if (this.res.headersSent) {
      this.res.destroy();
      this.settle({ status: this.status, responseStarted: true, error });
    } else {
      this.settle(error);
    }
  }

  private abortUpstream(reason: Error): void {
    if (this.controller === null) this.abortReason = reason;
    else this.controller.abort(reason);
  }

  private settle(outcome: ForwardResult | GatehouseError): void {
    this.settled = true;
    this.res.off('close', this.onClientClose);
    if (this.resumeOnDrain !== null) this.res.off('drain', this.resumeOnDrain);
    this.upload?.stopWatching();
    if (outcome instanceof GatehouseError) this.reject(outcome);
    else this.resolve(outcome);
  }
}

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  plan: ForwardPlan,
): Promise<ForwardResult> {
  return new Promise((resolve, reject) => {
    new Exchange(req, res, plan, resolve, reject).start();
  });
}
