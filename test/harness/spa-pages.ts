import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { UpstreamHandler } from './upstream.js';

/**
 * Single-page apps for browser tests: a few HTML pages with inline scripts, keyed by path (the query is
 * ignored, so a page can read `?pomerium_jwt=` itself). Served behind Gatehouse as an upstream, or on their
 * own over https — an SPA hosted somewhere else entirely, on an origin Gatehouse does not route.
 */
export type Pages = Readonly<Record<string, string>>;

const tlsFixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url)), 'utf8');

/** A minimal HTML document: a title and a body, scripts inline. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

/** An upstream handler serving `pages` (200 HTML), and 404 for any other path. */
export function servePages(pages: Pages): UpstreamHandler {
  return (req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://pages.invalid').pathname;
    const page = pages[path];
    if (page === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : page);
  };
}

export interface HttpsPageServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `pages` over https on 127.0.0.1 with the self-signed test certificate (for `localhost`); browsers open
 * it with certificate errors ignored. `port` 0 picks one.
 */
export async function startHttpsPageServer(pages: Pages, port = 0): Promise<HttpsPageServer> {
  const handler = servePages(pages);
  const server = https.createServer(
    { cert: tlsFixture('localhost-cert.pem'), key: tlsFixture('localhost-key.pem') },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
