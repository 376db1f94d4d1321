/**
 * forward() and the WebSocket proxy against real servers on port 0: a small Node server calls them the
 * way Gatehouse's pipeline does, in front of real HTTP, HTTPS and raw TCP upstreams.
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parseUpstreamUrl, type UpstreamUrl } from '../../src/config/urls.js';
import { forward, type ForwardResult } from '../../src/proxy/forward.js';
import { buildUpstreamRequestHeaders } from '../../src/proxy/request-headers.js';
import {
  createUpstreamPool,
  type UpstreamPool,
  type UpstreamPoolOptions,
} from '../../src/proxy/upstream-pool.js';
import { createWebSocketProxy, type WebSocketProxy } from '../../src/proxy/upgrade.js';
import { isGatehouseError, type GatehouseError } from '../../src/shared/errors.js';
import { outcomeOf, send } from '../harness/client.js';
import { startUpstream, unusedPort, type UpstreamHandler } from '../harness/upstream.js';

const CERT = readFileSync(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../fixtures/tls/localhost-key.pem', import.meta.url), 'utf8');

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

// ---------------------------------------------------------------------------------------------------
// Servers

const cleanups: (() => Promise<void> | void)[] = [];

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeLater(server: http.Server | net.Server): void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: net.Socket) => sockets.add(socket));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
}

async function startHttp(handler: UpstreamHandler): Promise<string> {
  const upstream = await startUpstream(handler);
  cleanups.push(() => upstream.close());
  return upstream.url;
}

async function startHttps(handler: UpstreamHandler): Promise<number> {
  const server = https.createServer({ cert: CERT, key: KEY }, handler);
  closeLater(server);
  return listen(server);
}

/** A TCP server that speaks only as much HTTP as the test wants. */
async function startRaw(onSocket: (socket: net.Socket) => void): Promise<string> {
  const server = net.createServer(onSocket);
  closeLater(server);
  return `http://127.0.0.1:${await listen(server)}`;
}

function upstream(url: string): UpstreamUrl {
  const parsed = parseUpstreamUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

// ---------------------------------------------------------------------------------------------------
// The proxy under test: what the pipeline's "prepare upstream → forward" stages do.

interface Route {
  pool: UpstreamPool;
  idleTimeoutMs: number;
  hostHeader?: string;
  tlsSkipVerify: boolean;
  tlsCustomCa: string | undefined;
}

let route: Route;
const outcomes: (ForwardResult | GatehouseError)[] = [];
const upgradeErrors: GatehouseError[] = [];
let proxyPort: number;
let proxyUrl: string;
let wsProxy: WebSocketProxy;

function useRoute(
  targets: string[],
  options: Partial<UpstreamPoolOptions> & { hostHeader?: string } = {},
): UpstreamPool {
  const poolOptions: UpstreamPoolOptions = {
    targets: targets.map(upstream),
    tlsSkipVerify: false,
    tlsCustomCa: undefined,
    timeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    ...options,
  };
  const pool = createUpstreamPool(poolOptions);
  cleanups.push(() => pool.close());
  route = {
    pool,
    idleTimeoutMs: poolOptions.idleTimeoutMs,
    tlsSkipVerify: poolOptions.tlsSkipVerify,
    tlsCustomCa: poolOptions.tlsCustomCa,
    ...(options.hostHeader === undefined ? {} : { hostHeader: options.hostHeader }),
  };
  return pool;
}

let requestCount = 0;

function upstreamHeaders(req: IncomingMessage, target: UpstreamUrl): Record<string, string | string[]> {
  requestCount += 1;
  return buildUpstreamRequestHeaders({
    rawHeaders: req.rawHeaders,
    peerIp: req.socket.remoteAddress ?? '',
    peerIsTrusted: false,
    proto: 'http',
    host: req.headers.host ?? '',
    requestId: `rid-${requestCount}`,
    hostHeader: route.hostHeader ?? target.host,
    set: {},
    remove: [],
  });
}

function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf('?');
  return mark === -1 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

beforeAll(async () => {
  wsProxy = createWebSocketProxy((error) => upgradeErrors.push(error));
  const server = http.createServer((req, res) => {
    const target = route.pool.next();
    forward(req, res, {
      pool: route.pool,
      target,
      ...splitUrl(req.url ?? '/'),
      headers: upstreamHeaders(req, target),
      idleTimeoutMs: route.idleTimeoutMs,
      decorateResponse(status, headers) {
        headers['x-decorated'] = String(status);
      },
    }).then(
      (result) => outcomes.push(result),
      (error: unknown) => {
        if (!isGatehouseError(error)) throw error;
        outcomes.push(error);
        res.writeHead(error.status, { 'content-type': 'text/plain' });
        res.end(error.code);
      },
    );
  });
  server.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    const target = route.pool.next();
    wsProxy.upgrade(req, socket, head, {
      target,
      ...splitUrl(req.url ?? '/'),
      headers: upstreamHeaders(req, target),
      tlsSkipVerify: route.tlsSkipVerify,
      tlsCustomCa: route.tlsCustomCa,
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => sockets.add(socket));
  proxyPort = await listen(server);
  proxyUrl = `http://127.0.0.1:${proxyPort}`;
  return async () => {
    wsProxy.close();
    await new Promise((resolve) => {
      server.close(resolve);
      for (const socket of sockets) socket.destroy();
    });
  };
});

afterEach(async () => {
  outcomes.length = 0;
  upgradeErrors.length = 0;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// ---------------------------------------------------------------------------------------------------
// Client helpers

/** A deterministic pseudo-random byte stream (AES-CTR keystream), produced chunk by chunk. */
function* generatedChunks(totalBytes: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK);
  for (let sent = 0; sent < totalBytes; sent += CHUNK) {
    yield cipher.update(zeros.subarray(0, Math.min(CHUNK, totalBytes - sent)));
  }
}

/** Hashes and counts whatever passes through it, without keeping it. */
class Digest {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  add(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
}

function digestOf(totalBytes: number): string {
  const digest = new Digest();
  for (const chunk of generatedChunks(totalBytes)) digest.add(chunk);
  return digest.hash.digest('hex');
}

/**
 * Client, proxy and upstream share this process, so a streamed body leaves three hops of dead socket
 * buffers for V8 to collect (it waits for 64 MiB of them): growth stays under the body size only when
 * nothing holds the body. Buffering it would keep 100 MiB alive on top of that garbage.
 */
const STREAMING_GROWTH_LIMIT = 95 * MiB;

/** The highest RSS seen while `work` runs, above the RSS at its start. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - start;
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

// ---------------------------------------------------------------------------------------------------

describe('forward', () => {
  it('forwards the request and strips hop-by-hop headers in both directions', async () => {
    let seen: IncomingHttpHeaders = {};
    let seenUrl = '';
    const target = await startHttp((req, res) => {
      seen = req.headers;
      seenUrl = req.url ?? '';
      res.writeHead(201, {
        connection: 'keep-alive, x-upstream-hop',
        'keep-alive': 'timeout=99, max=7',
        'x-upstream-hop': 'secret',
        'x-upstream': 'kept',
        'set-cookie': ['a=1', 'b=2'],
      });
      res.end('created');
    });
    useRoute([`${target}/base`]);

    const answer = await send(proxyPort, '/items//x?q=1&r=%2F', {
      method: 'POST',
      headers: {
        connection: 'x-client-hop',
        'x-client-hop': 'secret',
        'x-forwarded-for': '6.6.6.6',
        x_pomerium_jwt_assertion: 'forged',
        'content-type': 'text/plain',
      },
      body: 'hello',
    });

    expect(answer.status).toBe(201);
    expect(answer.body).toBe('created');
    expect(answer.headers['x-upstream']).toBe('kept');
    expect(answer.headers['x-decorated']).toBe('201');
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.headers['x-upstream-hop']).toBeUndefined();
    expect(answer.headers['keep-alive']).not.toBe('timeout=99, max=7');

    expect(seenUrl).toBe('/base/items//x?q=1&r=%2F');
    expect(seen['x-client-hop']).toBeUndefined();
    expect(seen.connection).not.toContain('x-client-hop');
    expect(seen.x_pomerium_jwt_assertion).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-request-id']).toMatch(/^rid-/);
    expect(seen.host).toBe(new URL(target).host);
    expect(seen['content-length']).toBe('5');
    expect(outcomes).toEqual([{ status: 201, responseStarted: true }]);
  });

  it('sends no body for HEAD, 204 and 304 and keeps the client connection usable', async () => {
    const target = await startHttp((req, res) => {
      if (req.url === '/empty') res.writeHead(204).end();
      else if (req.url === '/cached') res.writeHead(304, { etag: '"1"' }).end();
      else
        res.writeHead(200, { 'content-length': '11' }).end(req.method === 'HEAD' ? undefined : 'hello world');
    });
    useRoute([target]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await send(proxyPort, '/doc', { method: 'HEAD', agent });
      const empty = await send(proxyPort, '/empty', { agent });
      const cached = await send(proxyPort, '/cached', { agent });
      const full = await send(proxyPort, '/doc', { agent });
      expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', '11']);
      expect([empty.status, empty.body]).toEqual([204, '']);
      expect([cached.status, cached.body, cached.headers.etag]).toEqual([304, '', '"1"']);
      expect([full.status, full.body]).toEqual([200, 'hello world']);
    } finally {
      agent.destroy();
    }
  });

  it('distributes requests round robin across two upstreams', async () => {
    const a = await startHttp((_req, res) => res.end('a'));
    const b = await startHttp((_req, res) => res.end('b'));
    useRoute([a, b]);
    const bodies: string[] = [];
    for (let i = 0; i < 4; i += 1) bodies.push((await send(proxyPort, '/')).body);
    expect(bodies).toEqual(['a', 'b', 'a', 'b']);
  });

  it('streams a 100 MB upload without buffering it', async () => {
    const size = 100 * MiB;
    const received = new Digest();
    const target = await startHttp((req, res) => {
      req.on('data', (chunk: Buffer) => received.add(chunk));
      req.on('end', () => res.end(String(received.bytes)));
    });
    useRoute([target]);

    const sent = new Digest();
    let answer = '';
    const growth = await peakRssGrowth(async () => {
      const req = http.request(`${proxyUrl}/upload`, { method: 'PUT', agent: false });
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      const body = Readable.from(
        (function* () {
          for (const chunk of generatedChunks(size)) {
            sent.add(chunk);
            yield chunk;
          }
        })(),
      );
      await pipeline(body, req);
      const res = await response;
      for await (const chunk of res) answer += String(chunk);
    });

    expect(answer).toBe(String(size));
    expect(sent.bytes).toBe(size);
    expect(received.bytes).toBe(size);
    expect(received.hash.digest('hex')).toBe(sent.hash.digest('hex'));
    expect(growth).toBeLessThan(STREAMING_GROWTH_LIMIT);
  });

  it('streams a 100 MB download without buffering it', async () => {
    const size = 100 * MiB;
    const target = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      Readable.from(generatedChunks(size)).pipe(res);
    });
    useRoute([target]);

    const received = new Digest();
    const growth = await peakRssGrowth(async () => {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        http.get(`${proxyUrl}/download`, { agent: false }, resolve).on('error', reject);
      });
      for await (const chunk of res) received.add(chunk as Buffer);
    });

    expect(received.bytes).toBe(size);
    expect(received.hash.digest('hex')).toBe(digestOf(size));
    expect(growth).toBeLessThan(STREAMING_GROWTH_LIMIT);
  });

  it('answers 502 ERR_UPSTREAM_UNAVAILABLE when the upstream refuses the connection', async () => {
    useRoute([`http://127.0.0.1:${await unusedPort()}`]);
    const answer = await send(proxyPort, '/');
    expect([answer.status, answer.body]).toEqual([502, 'ERR_UPSTREAM_UNAVAILABLE']);
    expect(outcomes[0]).toMatchObject({ code: 'ERR_UPSTREAM_UNAVAILABLE' });
    expect((outcomes[0] as GatehouseError).cause).toBeInstanceOf(Error);
  });

  it('answers 502 ERR_UPSTREAM_RESET when the upstream resets in the middle of its headers', async () => {
    const target = await startRaw((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Ty');
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    useRoute([target]);
    const answer = await send(proxyPort, '/');
    expect([answer.status, answer.body]).toEqual([502, 'ERR_UPSTREAM_RESET']);
  });

  it('answers 504 ERR_UPSTREAM_TIMEOUT when the upstream never answers', async () => {
    const target = await startRaw(() => undefined);
    useRoute([target], { timeoutMs: 300 });
    const started = Date.now();
    const answer = await send(proxyPort, '/');
    expect([answer.status, answer.body]).toEqual([504, 'ERR_UPSTREAM_TIMEOUT']);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers 408 when the client stops sending its body', async () => {
    const upstreamClosed = deferred();
    const target = await startHttp((req, res) => {
      req.resume();
      res.on('close', () => upstreamClosed.resolve());
    });
    useRoute([target], { idleTimeoutMs: 300 });
    const answer = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${proxyUrl}/upload`, {
        method: 'POST',
        agent: false,
        headers: { 'content-length': '1000' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write('only the first bytes');
    });
    expect(answer).toBe(408);
    await upstreamClosed.promise;
  });

  it('aborts the client response when the upstream fails after its headers, and keeps serving', async () => {
    const target = await startHttp((req, res) => {
      if (req.url === '/ok') {
        res.end('fine');
        return;
      }
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    useRoute([target]);

    expect(await outcomeOf(send(proxyPort, '/broken'))).toBe('ECONNRESET');
    await expect.poll(() => outcomes.length).toBe(1);
    expect(outcomes[0]).toMatchObject({
      status: 200,
      responseStarted: true,
      error: { code: 'ERR_UPSTREAM_RESET' },
    });

    expect((await send(proxyPort, '/ok')).body).toBe('fine');
  });

  it('cancels the upstream request when the client goes away before the answer', async () => {
    const arrived = deferred();
    const upstreamClosed = deferred<boolean>();
    const target = await startHttp((_req, res) => {
      arrived.resolve();
      res.on('close', () => upstreamClosed.resolve(res.writableFinished));
    });
    useRoute([target], { timeoutMs: 30_000 });

    const req = http.get(`${proxyUrl}/slow`, { agent: false });
    req.on('error', () => undefined);
    await arrived.promise;
    const abortedAt = Date.now();
    req.destroy();

    expect(await upstreamClosed.promise).toBe(false);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    await expect.poll(() => outcomes).toEqual([{ status: 499, responseStarted: false }]);
  });

  it('cancels the upstream download when the client goes away in the middle of it', async () => {
    const upstreamClosed = deferred<boolean>();
    const target = await startHttp((_req, res) => {
      res.on('close', () => upstreamClosed.resolve(res.writableFinished));
      Readable.from(generatedChunks(1024 * MiB)).pipe(res);
    });
    useRoute([target], { timeoutMs: 30_000, idleTimeoutMs: 30_000 });

    let abortedAt = 0;
    await new Promise<void>((resolve) => {
      const req = http.get(`${proxyUrl}/endless`, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MiB && abortedAt === 0) {
            abortedAt = Date.now();
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
    });

    expect(await upstreamClosed.promise).toBe(false);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    await expect.poll(() => outcomes).toEqual([{ status: 200, responseStarted: true }]);
  });
});

describe('forward over TLS', () => {
  let port: number;
  beforeAll(async () => {
    port = await startHttps((req, res) => {
      res.end(`tls ok for ${req.headers.host}`);
    });
    // The server outlives the per-test cleanup of this describe block.
    const keep = cleanups.splice(0);
    return async () => {
      for (const cleanup of keep) await cleanup();
    };
  });

  it('verifies the upstream certificate against tls_custom_ca', async () => {
    useRoute([`https://localhost:${port}`], { tlsCustomCa: CERT });
    expect(await send(proxyPort, '/')).toMatchObject({ status: 200, body: `tls ok for localhost:${port}` });
  });

  it('verifies an IP-address upstream against the certificate IP SAN', async () => {
    useRoute([`https://127.0.0.1:${port}`], { tlsCustomCa: CERT });
    expect((await send(proxyPort, '/')).status).toBe(200);
  });

  it('checks the certificate against the upstream URL even when another Host is sent', async () => {
    useRoute([`https://localhost:${port}`], { tlsCustomCa: CERT, hostHeader: 'app.example.com' });
    expect(await send(proxyPort, '/')).toMatchObject({ status: 200, body: 'tls ok for app.example.com' });
  });

  it('accepts any certificate with tls_skip_verify', async () => {
    useRoute([`https://localhost:${port}`], { tlsSkipVerify: true });
    expect((await send(proxyPort, '/')).status).toBe(200);
  });

  it('answers 502 ERR_UPSTREAM_TLS for a certificate it cannot verify', async () => {
    useRoute([`https://localhost:${port}`]);
    expect(await send(proxyPort, '/')).toMatchObject({ status: 502, body: 'ERR_UPSTREAM_TLS' });
  });
});

describe('WebSocket upgrade', () => {
  async function startEcho(secure = false): Promise<{ url: string; seen: IncomingMessage[] }> {
    const seen: IncomingMessage[] = [];
    const refuse: UpstreamHandler = (_req, res) => res.writeHead(426).end();
    const server = secure ? https.createServer({ cert: CERT, key: KEY }, refuse) : http.createServer(refuse);
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket, req) => {
      seen.push(req);
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    closeLater(server);
    cleanups.push(() => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    });
    return { url: `${secure ? 'https' : 'http'}://localhost:${await listen(server)}`, seen };
  }

  function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${proxyUrl.replace('http', 'ws')}${path}`, ['chat'], { headers });
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    });
  }

  it('echoes messages through the upgraded connection with cleaned headers', async () => {
    const echo = await startEcho();
    useRoute([`${echo.url}/base`]);
    const socket = await connect('/chat//room?id=1', {
      'x-forwarded-for': '6.6.6.6',
      'X-Pomerium-Claim-Email': 'x',
    });
    cleanups.push(() => socket.terminate());

    const reply = new Promise<string>((resolve) =>
      socket.once('message', (data: Buffer) => resolve(data.toString())),
    );
    socket.send('hello through the proxy');
    expect(await reply).toBe('hello through the proxy');

    expect(socket.protocol).toBe('chat');
    const upstreamRequest = echo.seen[0];
    expect(upstreamRequest?.url).toBe('/base/chat//room?id=1');
    expect(upstreamRequest?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(upstreamRequest?.headers['x-pomerium-claim-email']).toBeUndefined();
    expect(upstreamRequest?.headers['x-request-id']).toMatch(/^rid-/);
  });

  it('tunnels to a TLS upstream verified against tls_custom_ca', async () => {
    const echo = await startEcho(true);
    useRoute([echo.url], { tlsCustomCa: CERT, hostHeader: 'app.example.com' });
    const socket = await connect('/secure');
    cleanups.push(() => socket.terminate());
    const reply = new Promise<string>((resolve) =>
      socket.once('message', (data: Buffer) => resolve(data.toString())),
    );
    socket.send('over tls');
    expect(await reply).toBe('over tls');
    expect(echo.seen[0]?.headers.host).toBe('app.example.com');
  });

  it('answers 502 for a TLS upstream whose certificate it cannot verify', async () => {
    const echo = await startEcho(true);
    useRoute([echo.url]);
    await expect(connect('/secure')).rejects.toThrow('status 502');
    expect(upgradeErrors.map((error) => error.code)).toEqual(['ERR_UPSTREAM_TLS']);
  });

  it('answers 502 when the upstream refuses, and reports the error', async () => {
    useRoute([`http://127.0.0.1:${await unusedPort()}`]);
    await expect(connect('/chat')).rejects.toThrow('status 502');
    expect(upgradeErrors.map((error) => error.code)).toEqual(['ERR_UPSTREAM_UNAVAILABLE']);
  });
});
