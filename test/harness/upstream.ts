import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test upstream saw: enough to assert what Gatehouse forwarded. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The most recent request; throws when there has been none. */
  lastRequest(): RecordedRequest;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** By default: 200 with a JSON echo of the method, path and headers, like the demo's sample API. */
const echo: UpstreamHandler = (req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
};

/** A real HTTP server on 127.0.0.1:0 that records every request it receives. */
export async function startUpstream(handler: UpstreamHandler = echo): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    lastRequest: () => {
      const request = requests.at(-1);
      if (!request) throw new Error('the upstream received nothing');
      return request;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on (an upstream's, just closed), for a connection that is refused. */
export async function unusedPort(): Promise<number> {
  const upstream = await startUpstream();
  await upstream.close();
  return upstream.port;
}
