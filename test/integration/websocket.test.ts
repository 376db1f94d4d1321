/**
 * WebSocket upgrades (RFC 6455) through a Gatehouse process to a real `ws` echo server: messages flow both
 * ways, the upstream sees the rewritten path and proxy-written headers only, routes without
 * `allow_websockets` refuse the upgrade, and a close on either side reaches the other.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { plainHttpConfig, publicRoute } from '../harness/gatehouse.js';
import { cleanUpCli, startCliWithConfig, type ListeningCli } from '../harness/process.js';

const WS_HOST = 'ws.gatehouse.test';
const PLAIN_HOST = 'plain.gatehouse.test';

interface Message {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** Everything a socket receives, in order, from the moment it exists, so no event can be missed. */
function record(socket: WebSocket) {
  const messages: Message[] = [];
  const waiting: ((message: Message) => void)[] = [];
  socket.on('message', (data: RawData, isBinary: boolean) => {
    const message = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary };
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
  return {
    socket,
    closed,
    nextMessage: () =>
      new Promise<Message>((resolve) => {
        const queued = messages.shift();
        if (queued) resolve(queued);
        else waiting.push(resolve);
      }),
  };
}

type RecordedSocket = ReturnType<typeof record>;

interface UpstreamConnection extends RecordedSocket {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** An HTTP server whose WebSocket endpoint greets, then echoes every message with its type. */
async function startEchoUpstream() {
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server });
  const connections: UpstreamConnection[] = [];
  const waiting: ((connection: UpstreamConnection) => void)[] = [];
  wss.on('connection', (socket, req) => {
    const connection = { ...record(socket), url: req.url ?? '', headers: req.headers };
    socket.on('message', (data: RawData, isBinary: boolean) => socket.send(data, { binary: isBinary }));
    socket.send('welcome');
    connections.push(connection);
    waiting.shift()?.(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    /** The next connection to arrive after this call. */
    nextConnection: () => new Promise<UpstreamConnection>((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let gatehouse: ListeningCli;
const clients: WebSocket[] = [];

beforeAll(async () => {
  upstream = await startEchoUpstream();
  gatehouse = await startCliWithConfig(
    plainHttpConfig(
      publicRoute(
        `http://${WS_HOST}`,
        upstream.url,
        '    prefix: /chat/\n    prefix_rewrite: /socket/\n    allow_websockets: true\n',
      ),
      publicRoute(`http://${PLAIN_HOST}`, upstream.url),
    ),
  );
});

afterEach(() => {
  for (const client of clients.splice(0)) client.terminate();
});

afterAll(async () => {
  await cleanUpCli();
  await upstream.close();
});

/** Opens a WebSocket through Gatehouse with the given Host; rejects with the status of a refusal. */
function connect(host: string, path: string, headers: Record<string, string> = {}): Promise<RecordedSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${gatehouse.port}${path}`, { headers: { host, ...headers } });
  clients.push(socket);
  const recorded = record(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(recorded));
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(new Error(`upgrade refused with ${res.statusCode}`));
    });
    socket.once('error', reject);
  });
}

async function connectThrough(path = '/chat/room?user=ada', headers: Record<string, string> = {}) {
  const upstreamSide = upstream.nextConnection();
  const client = await connect(WS_HOST, path, headers);
  return { client, upstreamSide: await upstreamSide };
}

describe('WebSocket through a Gatehouse process', () => {
  it('carries text and binary messages both ways', async () => {
    const { client } = await connectThrough();
    expect(await client.nextMessage()).toEqual({ data: Buffer.from('welcome'), isBinary: false });

    client.socket.send('hello, upstream');
    expect(await client.nextMessage()).toEqual({ data: Buffer.from('hello, upstream'), isBinary: false });

    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    client.socket.send(binary);
    expect(await client.nextMessage()).toEqual({ data: binary, isBinary: true });
  });

  it('sends the upstream the rewritten path, its own X-Forwarded-For and no client X-Pomerium-* headers', async () => {
    const { upstreamSide } = await connectThrough('/chat/room?user=ada', {
      'X-Forwarded-For': '203.0.113.9',
      'X-Pomerium-Jwt-Assertion': 'forged.assertion.value',
      'X-Pomerium-Authorization': 'forged-token',
      'X-Pomerium-Claim-Email': 'admin@example.com',
    });
    expect(upstreamSide.url).toBe('/socket/room?user=ada');
    expect(upstreamSide.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(Object.keys(upstreamSide.headers).filter((name) => name.startsWith('x-pomerium'))).toEqual([]);
    const values = Object.values(upstreamSide.headers).flat().join('\n');
    for (const forged of ['203.0.113.9', 'forged', 'admin@example.com']) expect(values).not.toContain(forged);
  });

  it('refuses the upgrade with 403 on a route without allow_websockets', async () => {
    const before = upstream.connections.length;
    await expect(connect(PLAIN_HOST, '/chat/room')).rejects.toThrow('upgrade refused with 403');
    expect(upstream.connections).toHaveLength(before);
  });

  it('refuses the upgrade with 404 for a host no route serves', async () => {
    const before = upstream.connections.length;
    await expect(connect('unknown.gatehouse.test', '/chat/room')).rejects.toThrow('upgrade refused with 404');
    expect(upstream.connections).toHaveLength(before);
  });

  it('closes the upstream side when the client closes, with its code and reason', async () => {
    const { client, upstreamSide } = await connectThrough();
    client.socket.close(4001, 'client leaves');
    expect(await upstreamSide.closed).toEqual({ code: 4001, reason: 'client leaves' });
    expect(await client.closed).toEqual({ code: 4001, reason: 'client leaves' });
  });

  it('closes the client side when the upstream closes, with its code and reason', async () => {
    const { client, upstreamSide } = await connectThrough();
    upstreamSide.socket.close(4002, 'upstream leaves');
    expect(await client.closed).toEqual({ code: 4002, reason: 'upstream leaves' });
    expect(await upstreamSide.closed).toEqual({ code: 4002, reason: 'upstream leaves' });
  });

  it('closes the client side when the upstream connection drops', async () => {
    const { client, upstreamSide } = await connectThrough();
    upstreamSide.socket.terminate();
    expect((await client.closed).code).toBe(1006);
  });
});
