/**
 * `gatehouse demo`, the first thing a newcomer runs: it says which URL to open, that URL shows the sample
 * API through Gatehouse, and Ctrl-C (here SIGTERM) stops everything it started.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { send } from '../harness/client.js';
import { childProcessIds, FREE_PORT_ENV, killCliProcesses, spawnCli } from '../harness/process.js';

afterAll(killCliProcesses);

/** Resolves with the connection's outcome: 'connected' or the error code (ECONNREFUSED when closed). */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

interface SampleApiAnswer {
  message: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

describe('gatehouse demo', () => {
  it('serves the sample API at the URL it prints and stops cleanly on SIGTERM', async () => {
    const demo = spawnCli(['demo'], { env: FREE_PORT_ENV });
    const line = await demo.waitForLine('stderr', /Open http:\/\/localhost:\d+\/api\/ in a browser/);
    const url = new URL(/(http:\/\/\S+)/.exec(line)?.[1] ?? '');
    const port = Number(url.port);

    const response = await send(port, url.pathname, {
      host: url.host,
      headers: { accept: 'application/json', 'x-demo-visitor': 'newcomer' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['x-served-by']).toBe('gatehouse-demo');
    const answer = JSON.parse(response.body) as SampleApiAnswer;
    expect(answer).toMatchObject({ message: 'HELLO WORLD', method: 'GET', path: '/' });
    expect(answer.headers['x-demo-visitor']).toBe('newcomer');
    expect(answer.headers['x-forwarded-for']).toBe('127.0.0.1');
    // The demo runs the sample API inside its own process: nothing to orphan.
    expect(childProcessIds(demo.pid)).toEqual([]);
    const sampleApiPort = Number(new URL(`http://${answer.headers.host}`).port);

    expect(await demo.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await probe(port)).toBe('ECONNREFUSED');
    expect(await probe(sampleApiPort)).toBe('ECONNREFUSED');
  });
});
