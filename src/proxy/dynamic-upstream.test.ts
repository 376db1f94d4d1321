import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { DynamicUpstreamConfig } from '../config/schema.js';
import type { UpstreamUrl } from '../config/urls.js';
import { isGatehouseError } from '../shared/errors.js';
import { createDynamicUpstream, type Lookup, type ResolvedAddress } from './dynamic-upstream.js';
import type { UpstreamHandler, UpstreamPool, UpstreamPoolOptions } from './upstream-pool.js';

const CONFIG: DynamicUpstreamConfig = {
  host_header: 'exo-proxy-orig-host',
  port_header: 'exo-proxy-orig-port',
  scheme: 'https',
  allowed_hosts: ['*.cloud.example.com', '8.8.8.8', '127.0.0.1'],
  allowed_ports: [443, 5000],
  allow_private_addresses: false,
};

const POOL_OPTIONS = {
  tlsSkipVerify: false,
  tlsCustomCa: undefined,
  timeoutMs: 30_000,
  idleTimeoutMs: 60_000,
};

/** A resolver answering from a table, counting the questions. */
function fakeResolver(table: Record<string, readonly string[]>) {
  const asked: string[] = [];
  const lookup: Lookup = (hostname) => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) {
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      );
    }
    return Promise.resolve(
      addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
  return { lookup, asked };
}

interface FakePool extends UpstreamPool {
  readonly target: UpstreamUrl;
  readonly dispatched: string[];
  closed: boolean;
}

function fakePools() {
  const created: FakePool[] = [];
  const createPool = (options: UpstreamPoolOptions): UpstreamPool => {
    const target = options.targets[0] as UpstreamUrl;
    const pool: FakePool = {
      target,
      dispatched: [],
      closed: false,
      next: () => target,
      dispatch(request) {
        pool.dispatched.push(request.path);
      },
      close() {
        pool.closed = true;
        return Promise.resolve();
      },
    };
    created.push(pool);
    return pool;
  };
  return { created, createPool };
}

function headers(host: string, port = '443'): IncomingHttpHeaders {
  return { 'exo-proxy-orig-host': host, 'exo-proxy-orig-port': port };
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return { code: error.code, status: error.status, message: error.message };
  }
  throw new Error('expected a refusal');
}

const handler = {} as UpstreamHandler;

describe('createDynamicUpstream: where the connection goes', () => {
  it('resolves a name once and connects to the checked address, keeping the name for SNI and Host', async () => {
    const { lookup, asked } = fakeResolver({ 'keystone.cloud.example.com': ['93.184.215.14'] });
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    const target = await dynamic.resolveTarget(headers('keystone.cloud.example.com', '5000'));
    expect(target).toEqual({
      url: 'https://keystone.cloud.example.com:5000',
      protocol: 'https:',
      origin: 'https://93.184.215.14:5000',
      host: 'keystone.cloud.example.com:5000',
      servername: 'keystone.cloud.example.com',
      basePath: '',
    });
    expect(asked).toEqual(['keystone.cloud.example.com']);
  });

  it('leaves the default port out of the Host header and brackets an IPv6 address in the origin', async () => {
    const { lookup } = fakeResolver({ 'v6.cloud.example.com': ['2606:4700:4700::1111'] });
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    await expect(dynamic.resolveTarget(headers('v6.cloud.example.com'))).resolves.toMatchObject({
      origin: 'https://[2606:4700:4700::1111]:443',
      host: 'v6.cloud.example.com',
      servername: 'v6.cloud.example.com',
    });
  });

  it('checks an IP literal itself, without asking the resolver', async () => {
    const { lookup, asked } = fakeResolver({});
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    await expect(dynamic.resolveTarget(headers('8.8.8.8'))).resolves.toMatchObject({
      origin: 'https://8.8.8.8:443',
      servername: '8.8.8.8',
    });
    expect(await failure(dynamic.resolveTarget(headers('127.0.0.1')))).toEqual({
      code: 'ERR_DYNAMIC_UPSTREAM_REFUSED',
      status: 403,
      message: 'The address 127.0.0.1 is not public; this route only reaches public addresses.',
    });
    expect(asked).toEqual([]);
  });

  it('uses http and port 80 as the default port with scheme: http', async () => {
    const { lookup } = fakeResolver({ 'api.cloud.example.com': ['93.184.215.14'] });
    const dynamic = createDynamicUpstream({
      config: { ...CONFIG, scheme: 'http', allowed_ports: [80] },
      poolOptions: POOL_OPTIONS,
      lookup,
    });
    await expect(dynamic.resolveTarget(headers('api.cloud.example.com', '80'))).resolves.toMatchObject({
      protocol: 'http:',
      origin: 'http://93.184.215.14:80',
      host: 'api.cloud.example.com',
    });
  });

  it('names the headers it reads, so they are not forwarded', () => {
    const dynamic = createDynamicUpstream({
      config: { ...CONFIG, host_header: 'X-Cloud-Host', port_header: 'X-Cloud-Port' },
      poolOptions: POOL_OPTIONS,
    });
    expect(dynamic.targetHeaders).toEqual(['x-cloud-host', 'x-cloud-port']);
  });
});

describe('createDynamicUpstream: addresses after resolution', () => {
  it('refuses a public name that resolves to loopback, without saying where it points', async () => {
    const { lookup } = fakeResolver({ 'rebind.cloud.example.com': ['127.0.0.1'] });
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    const refusal = await failure(dynamic.resolveTarget(headers('rebind.cloud.example.com')));
    expect(refusal).toMatchObject({ code: 'ERR_DYNAMIC_UPSTREAM_REFUSED', status: 403 });
    expect(refusal.message).toContain('rebind.cloud.example.com resolves to an address that is not public');
    expect(refusal.message).not.toContain('127.0.0.1');
  });

  it.each([
    ['the cloud metadata address', ['169.254.169.254']],
    ['a private address after a public one', ['93.184.215.14', '10.0.0.5']],
    ['an IPv4-mapped loopback address', ['::ffff:127.0.0.1']],
    ['a unique local IPv6 address', ['fd00::2']],
    ['a scoped link-local address', ['fe80::1%eth0']],
  ])('refuses a name that resolves to %s', async (_kind, addresses) => {
    const { lookup } = fakeResolver({ 'x.cloud.example.com': addresses });
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    expect(await failure(dynamic.resolveTarget(headers('x.cloud.example.com')))).toMatchObject({
      code: 'ERR_DYNAMIC_UPSTREAM_REFUSED',
      status: 403,
    });
  });

  it('connects to private addresses with allow_private_addresses', async () => {
    const { lookup } = fakeResolver({ 'lab.cloud.example.com': ['10.0.0.5'] });
    const dynamic = createDynamicUpstream({
      config: { ...CONFIG, allow_private_addresses: true },
      poolOptions: POOL_OPTIONS,
      lookup,
    });
    await expect(dynamic.resolveTarget(headers('lab.cloud.example.com'))).resolves.toMatchObject({
      origin: 'https://10.0.0.5:443',
    });
    await expect(dynamic.resolveTarget(headers('127.0.0.1'))).resolves.toMatchObject({
      origin: 'https://127.0.0.1:443',
    });
  });

  it('answers 502 when the name does not resolve', async () => {
    const { lookup } = fakeResolver({ 'empty.cloud.example.com': [] });
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    for (const host of ['missing.cloud.example.com', 'empty.cloud.example.com']) {
      expect(await failure(dynamic.resolveTarget(headers(host)))).toMatchObject({
        code: 'ERR_DYNAMIC_UPSTREAM_UNRESOLVED',
        status: 502,
      });
    }
  });

  it('answers 504 when resolving takes longer than the route timeout', async () => {
    const lookup: Lookup = () => new Promise(() => undefined);
    const dynamic = createDynamicUpstream({
      config: CONFIG,
      poolOptions: { ...POOL_OPTIONS, timeoutMs: 20 },
      lookup,
    });
    expect(await failure(dynamic.resolveTarget(headers('slow.cloud.example.com')))).toMatchObject({
      code: 'ERR_UPSTREAM_TIMEOUT',
      status: 504,
    });
  });

  it('checks the allowlists before resolving: a refused host costs no lookup', async () => {
    const { lookup, asked } = fakeResolver({});
    const dynamic = createDynamicUpstream({ config: CONFIG, poolOptions: POOL_OPTIONS, lookup });
    expect(await failure(dynamic.resolveTarget(headers('evil.example.net')))).toMatchObject({ status: 403 });
    expect(await failure(dynamic.resolveTarget(headers('a.cloud.example.com', '22')))).toMatchObject({
      status: 403,
    });
    expect(asked).toEqual([]);
  });
});

describe('createDynamicUpstream: connection pools', () => {
  function setUp(maxPools: number) {
    const { lookup } = fakeResolver({
      'a.cloud.example.com': ['93.184.215.1'],
      'b.cloud.example.com': ['93.184.215.2'],
      'c.cloud.example.com': ['93.184.215.3'],
      'same-ip.cloud.example.com': ['93.184.215.1'],
    });
    const pools = fakePools();
    const dynamic = createDynamicUpstream({
      config: CONFIG,
      poolOptions: POOL_OPTIONS,
      lookup,
      createPool: pools.createPool,
      maxPools,
    });
    const send = async (host: string, path: string) => {
      const target = await dynamic.resolveTarget(headers(host));
      dynamic.pool.dispatch({ target, method: 'GET', path, headers: {}, body: null }, handler);
    };
    return { dynamic, pools, send };
  }

  it('keeps one pool per address and name, reused by later requests', async () => {
    const { pools, send } = setUp(4);
    await send('a.cloud.example.com', '/1');
    await send('a.cloud.example.com', '/2');
    await send('same-ip.cloud.example.com', '/3');
    expect(
      pools.created.map((pool) => [pool.target.origin, pool.target.servername, pool.dispatched]),
    ).toEqual([
      ['https://93.184.215.1:443', 'a.cloud.example.com', ['/1', '/2']],
      ['https://93.184.215.1:443', 'same-ip.cloud.example.com', ['/3']],
    ]);
  });

  it('closes the least recently used pool beyond maxPools', async () => {
    const { pools, send } = setUp(2);
    await send('a.cloud.example.com', '/1');
    await send('b.cloud.example.com', '/1');
    await send('a.cloud.example.com', '/2');
    await send('c.cloud.example.com', '/1');
    await Promise.resolve();
    const byName = Object.fromEntries(pools.created.map((pool) => [pool.target.servername, pool.closed]));
    expect(byName).toEqual({
      'a.cloud.example.com': false,
      'b.cloud.example.com': true,
      'c.cloud.example.com': false,
    });
    await send('b.cloud.example.com', '/2');
    expect(pools.created).toHaveLength(4);
  });

  it('closes every pool with the runtime, and has no target of its own', async () => {
    const { dynamic, pools, send } = setUp(4);
    await send('a.cloud.example.com', '/1');
    await send('b.cloud.example.com', '/1');
    await dynamic.pool.close();
    expect(pools.created.every((pool) => pool.closed)).toBe(true);
    expect(() => dynamic.pool.next()).toThrow(TypeError);
  });
});
