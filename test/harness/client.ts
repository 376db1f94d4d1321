import http, { type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';

export interface ClientResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
  /** The client side's port: two responses with the same one came over the same (kept-alive) connection. */
  readonly clientPort: number | undefined;
}

export interface ClientRequest {
  readonly method?: string;
  /** Sent as the Host header; the connection always goes to 127.0.0.1:port. */
  readonly host?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** A keep-alive agent, to send several requests over one connection; by default a fresh connection. */
  readonly agent?: Agent;
}

/**
 * One HTTP/1.1 request to a server on loopback with full control of the Host header and the request
 * target (sent exactly as given, so tests can send `..` and encoded slashes unaltered).
 */
export function send(port: number, target: string, request: ClientRequest = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: target,
        headers: { host: request.host ?? 'localhost', ...request.headers },
        agent: request.agent ?? false,
      },
      (res) => {
        const clientPort = res.socket.localPort;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
            clientPort,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** The status of an exchange, or the error code the client saw instead (a reset, a truncated body). */
export function outcomeOf(response: Promise<ClientResponse>): Promise<number | string> {
  return response.then(
    ({ status }) => status,
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

/** Writes bytes as they are onto a fresh connection and returns everything read until it closes. */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(bytes);
  });
}
