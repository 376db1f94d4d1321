import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatehouseError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { describeError } from './render-error.js';
import { applyResponseHeaders, type ResponseHeaders } from './response-headers.js';
import type { Runtime } from './runtime.js';

/**
 * Answers requests Node's parser refused before any handler saw them: an oversized header block is 431
 * (RFC 6585 §5), anything else malformed is 400. The connection is closed afterwards because the parser
 * cannot find where the next request would start.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  runtime: Runtime,
  logger: Logger,
): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const failure =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new GatehouseError('ERR_HEADERS_TOO_LARGE', 'The request headers are larger than the 16 KiB limit.')
      : new GatehouseError('ERR_BAD_REQUEST', 'The request is not valid HTTP/1.1.');
  const requestId = randomUUID();
  const body = JSON.stringify(describeError(failure, requestId));
  const headers: ResponseHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
  };
  applyResponseHeaders(runtime.responseHeaders, headers);
  headers['x-request-id'] = requestId;
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\n${head}\r\n\r\n${body}`);
  logger.info(
    { request_id: requestId, code: failure.code, status: failure.status, parser: error.code },
    'request refused by the parser',
  );
}
