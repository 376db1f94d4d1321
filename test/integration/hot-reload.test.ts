/**
 * Reloading the config in process: new requests see the new routes at once, a request already in flight
 * finishes on the route and upstream it started with, and a route the new config dropped is gone.
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { send, type ClientResponse } from '../harness/client.js';
import { plainHttpConfig, publicRoute, startGatehouse, type TestGatehouse } from '../harness/gatehouse.js';
import { startUpstream, type TestUpstream } from '../harness/upstream.js';

describe('hot reload', () => {
  let oldUpstream: TestUpstream;
  let newUpstream: TestUpstream;
  let gatehouse: TestGatehouse;
  /** Called by the old upstream when a request reaches it; the test answers it when it chooses. */
  let onSlowRequest: ((answer: (body: string) => void) => void) | undefined;

  beforeEach(async () => {
    oldUpstream = await startUpstream((req, res) => {
      req.resume();
      const answer = (body: string) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(body);
      };
      if (req.url === '/slow' && onSlowRequest) onSlowRequest(answer);
      else answer('old');
    });
    newUpstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('new');
    });
    onSlowRequest = undefined;
    gatehouse = await startGatehouse(plainHttpConfig(publicRoute('http://old.test', oldUpstream.url)));
  });
  afterEach(async () => {
    await gatehouse.close();
    await Promise.all([oldUpstream.close(), newUpstream.close()]);
  });

  it('applies new routes to the next request', async () => {
    expect((await send(gatehouse.port, '/', { host: 'new.test' })).status).toBe(404);
    await gatehouse.reload(plainHttpConfig(publicRoute('http://new.test', newUpstream.url)));
    const response = await send(gatehouse.port, '/fresh', { host: 'new.test' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('new');
    expect(newUpstream.requests.map((request) => request.url)).toEqual(['/fresh']);
  });

  it('answers 404 for a route the new config dropped, and forwards nothing to its upstream', async () => {
    expect((await send(gatehouse.port, '/', { host: 'old.test' })).body).toBe('old');
    await gatehouse.reload(plainHttpConfig(publicRoute('http://new.test', newUpstream.url)));
    const response = await send(gatehouse.port, '/', { host: 'old.test' });
    expect(response.status).toBe(404);
    expect(oldUpstream.requests).toHaveLength(1);
  });

  it('finishes a request in flight during the reload on the old route’s upstream', async () => {
    const reached = new Promise<(body: string) => void>((resolve) => {
      onSlowRequest = resolve;
    });
    const inFlight: Promise<ClientResponse> = send(gatehouse.port, '/slow', { host: 'old.test' });
    const answer = await reached;

    await gatehouse.reload(plainHttpConfig(publicRoute('http://new.test', newUpstream.url)));
    // The new config serves new requests while the old one is still running.
    expect((await send(gatehouse.port, '/', { host: 'new.test' })).status).toBe(200);
    expect((await send(gatehouse.port, '/', { host: 'old.test' })).status).toBe(404);

    answer('finished on the old upstream');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.body).toBe('finished on the old upstream');
    expect(oldUpstream.requests.map((request) => request.url)).toEqual(['/slow']);
  });

  it('applies the new config to the next request on a connection opened before the reload', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await send(gatehouse.port, '/', { host: 'old.test', agent });
      await gatehouse.reload(plainHttpConfig(publicRoute('http://new.test', newUpstream.url)));
      const after = await send(gatehouse.port, '/', { host: 'new.test', agent });
      expect(after.clientPort).toBe(before.clientPort);
      expect([before.status, after.status]).toEqual([200, 200]);
      expect(newUpstream.requests).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });
});
