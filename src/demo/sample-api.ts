import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SAMPLE_SPA_PATH, sampleSpaHtml } from './sample-spa.js';

/**
 * The sample upstream from Pomerium's CORS guide: `{"message":"HELLO WORLD"}`, plus what it received
 * (method, path, headers) so a newcomer can see exactly what Gatehouse forwards; and, at `/app/`, the
 * demo's single-page app.
 */
export interface SampleApi {
  readonly url: URL;
  close(): Promise<void>;
}

export function startSampleApi(port: number, host = '127.0.0.1'): Promise<SampleApi> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      if (req.method === 'GET' && req.url === SAMPLE_SPA_PATH) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(sampleSpaHtml);
        return;
      }
      const body = JSON.stringify(
        { message: 'HELLO WORLD', method: req.method, path: req.url, headers: req.headers },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: new URL(`http://${host}:${bound}/`),
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
