/**
 * `to: file:///dir` through a real Gatehouse: an SPA's files from a temporary directory, with the
 * index.html fallback for client-side routes, content types, ETag/Last-Modified and 304s, HEAD, 405, no
 * listings and no way out of the directory; and everything else of a route as for an upstream —
 * sign-in on a protected route, prefix_rewrite, response headers, CORS.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, sendRaw, type ClientRequest } from '../harness/client.js';
import { pollUntil } from '../harness/process.js';
import { CookieJar, requestWithCookies } from '../harness/idp.js';
import { ALICE, APP, NAVIGATION, signedInJar, startAppWorld, type SignInWorld } from '../harness/sign-in.js';

const FILES = 'files.example.test';
const OTHER_ORIGIN = 'https://other.example.test';
const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
const INDEX = '<!doctype html><title>SPA</title><div id="app"></div>';
const APP_JS = "document.getElementById('app').textContent = 'hello';";
const BROWSER = { accept: NAVIGATION.accept };
const FETCH_JSON = { accept: 'application/json' };
const MiB = 1024 * 1024;
const BIG_FILE_BYTES = 64 * MiB;
/** What may be read ahead of a paused client: stream buffers and kernel socket buffers. */
const READ_AHEAD_LIMIT = 16 * MiB;
const SETTLED_BYTES = 64 * 1024;

/** Bytes this process has read through read(2) and friends so far (Linux /proc/self/io `rchar`). */
function bytesReadByThisProcess(): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return Number(match?.[1] ?? NaN);
}

interface EscapeCase {
  class: string;
  note: string;
  target: string;
}

const escapes = JSON.parse(
  readFileSync(new URL('../fixtures/static-files/escape-requests.json', import.meta.url), 'utf8'),
) as EscapeCase[];

/** `{a*300}` in a fixture stands for 300 `a`s. */
function expand(text: string): string {
  return text.replace(/\{(.+?)\*(\d+)\}/g, (_, unit: string, times: string) => unit.repeat(Number(times)));
}

let base = '';
let site = '';
let bigFile = Buffer.alloc(0);
let world: SignInWorld;

function writeSite(files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(site, name)), { recursive: true });
    writeFileSync(join(site, name), content);
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'gatehouse-static-it-'));
  site = join(base, 'site');
  bigFile = randomBytes(BIG_FILE_BYTES);
  writeSite({
    'index.html': INDEX,
    'assets/app.js': APP_JS,
    'assets/style.css': 'body { margin: 0 }',
    'assets/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'assets/module.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    'assets/blob.dat': 'opaque',
    'assets/empty.txt': '',
    'assets/big.bin': bigFile,
    'docs/index.html': '<!doctype html><title>docs</title>',
    '.env': `SECRET=${SECRET}`,
    '.well-known/security.txt': 'Contact: mailto:security@example.test',
  });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  symlinkSync('/etc', join(site, 'etc'));
  symlinkSync('../outside/secret.txt', join(site, 'leak.txt'));

  world = await startAppWorld(
    (upstream) => `  - from: http://${APP}
    prefix: /app
    prefix_rewrite: /
    to: file://${site}
    allow_public_unauthenticated_access: true
    set_response_headers: { X-Served-By: gatehouse-files }
    cors:
      allowed_origins: [${OTHER_ORIGIN}]
  - from: http://${APP}
    prefix: /private
    prefix_rewrite: /
    to: file://${site}
    allow_any_authenticated_user: true
  - from: http://${APP}
    prefix: /api
    to: ${upstream}
    allow_public_unauthenticated_access: true
  - from: http://${FILES}
    to: file://${site}/
    allow_public_unauthenticated_access: true
`,
  );
});

afterAll(async () => {
  await world?.close();
  if (base !== '') rmSync(base, { recursive: true, force: true });
});

function get(host: string, target: string, request: ClientRequest = {}) {
  return send(world.port, target, { ...request, host: `${host}:${world.port}` });
}

describe('serving files', () => {
  it('serves the app’s index.html at the route’s root, as HTML that must be revalidated', async () => {
    for (const target of ['/app', '/app/']) {
      const answer = await get(APP, target, { headers: BROWSER });
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(INDEX);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      expect(Date.parse(answer.headers['last-modified'] ?? '')).not.toBeNaN();
    }
  });

  it('serves an asset by the rewritten path, with its content type and no Cache-Control of its own', async () => {
    const answer = await get(APP, '/app/assets/app.js', { headers: { accept: '*/*' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(APP_JS);
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(answer.headers['cache-control']).toBeUndefined();
    expect(answer.headers.vary ?? '').not.toMatch(/accept/i);
  });

  it.each([
    ['/assets/style.css', 'text/css; charset=utf-8'],
    ['/assets/logo.svg', 'image/svg+xml'],
    ['/assets/module.wasm', 'application/wasm'],
    ['/assets/blob.dat', 'application/octet-stream'],
    ['/.well-known/security.txt', 'text/plain; charset=utf-8'],
  ])('answers %s as %s, with nosniff', async (path, type) => {
    const answer = await get(FILES, path);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(type);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });

  it('applies the route’s response headers and request id like an upstream answer', async () => {
    const answer = await get(APP, '/app/assets/app.js', { headers: { 'x-request-id': 'static-1' } });
    expect(answer.headers['x-served-by']).toBe('gatehouse-files');
    expect(answer.headers['x-request-id']).toBe('static-1');
    expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('streams a large file: a paused client holds the reading back, and every byte arrives', async () => {
    const options = {
      host: '127.0.0.1',
      port: world.port,
      path: '/assets/big.bin',
      headers: { host: FILES },
    };
    const readBefore = bytesReadByThisProcess();
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(options, resolve).on('error', reject);
    });
    res.pause();
    expect(res.headers['content-length']).toBe(String(bigFile.length));
    // Settled: less than one read's worth (64 KiB) more in 100 ms — reading /proc itself counts a little —
    // or everything was read, which means the file was read whole.
    let lastRead = -SETTLED_BYTES;
    await pollUntil('the server stops reading the file or has read all of it', async () => {
      const read = bytesReadByThisProcess() - readBefore;
      const settled = read - lastRead < SETTLED_BYTES || read >= bigFile.length;
      lastRead = read;
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 100));
      return settled;
    });
    expect(lastRead).toBeLessThan(READ_AHEAD_LIMIT);

    res.resume();
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      length += chunk.length;
      hash.update(chunk);
    }
    expect(length).toBe(bigFile.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bigFile).digest('hex'));
  });

  it('answers an empty file with an empty 200', async () => {
    const answer = await get(FILES, '/assets/empty.txt');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe('0');
    expect(answer.body).toBe('');
  });

  it('leaves a neighbouring upstream route alone', async () => {
    const answer = await get(APP, '/api/users', { headers: FETCH_JSON });
    expect(answer.status).toBe(200);
    expect(world.upstream.requests.at(-1)?.url).toBe('/api/users');
  });
});

describe('the SPA fallback', () => {
  it('answers a browser on a client-side route with index.html, varying on Accept', async () => {
    const answer = await get(APP, '/app/settings/profile', { headers: NAVIGATION });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(INDEX);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.headers.vary).toMatch(/\bAccept\b/);
  });

  it('answers fetch() with */* the app as well, but a client that wants JSON gets 404 JSON', async () => {
    expect((await get(APP, '/app/settings', { headers: { accept: '*/*' } })).body).toBe(INDEX);
    const json = await get(APP, '/app/settings', { headers: FETCH_JSON });
    expect(json.status).toBe(404);
    expect(JSON.parse(json.body)).toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
    expect(json.headers.vary).toMatch(/\bAccept\b/);
  });

  it('keeps a missing asset a 404 even for a browser', async () => {
    for (const path of ['/app/assets/missing.js', '/app/assets/missing.css', '/app/favicon.ico']) {
      const answer = await get(APP, path, { headers: NAVIGATION });
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.body).not.toContain('<div id="app">');
    }
  });
});

describe('no directory listings', () => {
  it('serves a directory’s own index.html, with or without the trailing slash', async () => {
    for (const path of ['/app/docs', '/app/docs/']) {
      const answer = await get(APP, path, { headers: BROWSER });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('<title>docs</title>');
    }
  });

  it('answers 404 for a directory without index.html, never a listing', async () => {
    for (const path of ['/app/assets/', '/app/assets', '/app/.well-known/']) {
      const answer = await get(APP, path, { headers: BROWSER });
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain('app.js');
    }
  });
});

describe('conditional requests', () => {
  it('answers 304 to If-None-Match with the current ETag, and 200 to an old one', async () => {
    const first = await get(APP, '/app/assets/app.js');
    const etag = first.headers.etag ?? '';
    const again = await get(APP, '/app/assets/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['x-served-by']).toBe('gatehouse-files');
    const other = await get(APP, '/app/assets/app.js', { headers: { 'if-none-match': '"stale"' } });
    expect(other.status).toBe(200);
    expect(other.body).toBe(APP_JS);
  });

  it('answers 304 to If-Modified-Since at the Last-Modified date, and 200 to an earlier one', async () => {
    const first = await get(APP, '/app/assets/style.css');
    const lastModified = first.headers['last-modified'] ?? '';
    const same = await get(APP, '/app/assets/style.css', { headers: { 'if-modified-since': lastModified } });
    expect(same.status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const changed = await get(APP, '/app/assets/style.css', { headers: { 'if-modified-since': earlier } });
    expect(changed.status).toBe(200);
  });

  it('sees a deploy: a rewritten file gets a new ETag and the old one no longer matches', async () => {
    writeSite({ 'assets/deploy.js': 'v1' });
    utimesSync(join(site, 'assets/deploy.js'), 1_700_000_000, 1_700_000_000);
    const before = await get(APP, '/app/assets/deploy.js');
    writeSite({ 'assets/deploy.js': 'v2' });
    utimesSync(join(site, 'assets/deploy.js'), 1_700_000_100, 1_700_000_100);
    const after = await get(APP, '/app/assets/deploy.js', {
      headers: { 'if-none-match': before.headers.etag ?? '' },
    });
    expect(after.status).toBe(200);
    expect(after.body).toBe('v2');
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('answers 412 when If-Match names another version', async () => {
    const answer = await get(APP, '/app/assets/app.js', {
      headers: { 'if-match': '"other"', ...FETCH_JSON },
    });
    expect(answer.status).toBe(412);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_PRECONDITION_FAILED' });
  });
});

describe('methods', () => {
  it('answers HEAD with the headers of GET and no body', async () => {
    const getAnswer = await get(APP, '/app/assets/app.js');
    const head = await get(APP, '/app/assets/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(getAnswer.headers['content-length']);
    expect(head.headers['content-type']).toBe(getAnswer.headers['content-type']);
    expect(head.headers.etag).toBe(getAnswer.headers.etag);
  });

  it('answers HEAD on a client-side route like GET', async () => {
    const head = await get(APP, '/app/dashboard', { method: 'HEAD', headers: NAVIGATION });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405 and Allow', async (method) => {
    const answer = await get(APP, '/app/assets/app.js', { method, headers: FETCH_JSON });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_METHOD_NOT_ALLOWED' });
  });
});

describe('no way out of the directory', () => {
  const classes = [...new Set(escapes.map((entry) => entry.class))];

  it('covers every attack class', () => {
    expect(classes).toEqual(
      expect.arrayContaining([
        'dot-dot',
        'encoded-separator',
        'backslash',
        'nul',
        'symlink',
        'very-long-name',
      ]),
    );
  });

  describe.each(classes)('%s', (attackClass) => {
    it.each(escapes.filter((entry) => entry.class === attackClass))('refuses $note', async ({ target }) => {
      for (const headers of [NAVIGATION, FETCH_JSON]) {
        const answer = await get(FILES, expand(target), { headers });
        expect(answer.status).toBe(404);
        expect(answer.body).not.toContain(SECRET);
        expect(answer.body).not.toContain('root:x:0:0');
        expect(answer.body).not.toContain('<div id="app">');
      }
    });
  });

  it('refuses a raw NUL in the request target before any file is looked up', async () => {
    const raw = await sendRaw(world.port, `GET /leak.txt\0.png HTTP/1.1\r\nHost: ${FILES}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).not.toContain(SECRET);
  });

  it('refuses the same escapes under a prefix_rewrite route', async () => {
    for (const target of [
      '/app/..%2f..%2foutside%2fsecret.txt',
      '/app/leak.txt',
      '/app/etc/passwd',
      '/app/.env',
    ]) {
      const answer = await get(APP, target, { headers: NAVIGATION });
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain(SECRET);
    }
  });
});

describe('a protected file route', () => {
  it('sends a browser to sign in and answers a script 401, before any file is read', async () => {
    const navigation = await requestWithCookies(world.url(APP, '/private/'), new CookieJar(), {
      headers: NAVIGATION,
    });
    expect(navigation.status).toBe(302);
    expect(new URL(navigation.headers.location ?? '').origin).toBe(new URL(world.idp.issuer).origin);
    const script = await requestWithCookies(world.url(APP, '/private/assets/app.js'), new CookieJar(), {
      headers: { accept: '*/*', 'sec-fetch-mode': 'cors' },
    });
    expect(script.status).toBe(401);
    expect(script.body).not.toContain(APP_JS);
  });

  it('serves the files and the fallback once signed in', async () => {
    const jar = await signedInJar(world.url(APP, '/private/'), ALICE, world.idp);
    const asset = await requestWithCookies(world.url(APP, '/private/assets/app.js'), jar);
    expect(asset.status).toBe(200);
    expect(asset.body).toBe(APP_JS);
    const route = await requestWithCookies(world.url(APP, '/private/reports/2026'), jar, {
      headers: NAVIGATION,
    });
    expect(route.status).toBe(200);
    expect(route.body).toBe(INDEX);
  });
});

describe('CORS on a file route', () => {
  it('lets an allowed origin read files and the 404 for a missing one', async () => {
    const origin = { origin: OTHER_ORIGIN };
    const file = await get(APP, '/app/assets/app.js', { headers: origin });
    expect(file.headers['access-control-allow-origin']).toBe(OTHER_ORIGIN);
    expect(file.headers.vary).toMatch(/\bOrigin\b/);
    const missing = await get(APP, '/app/assets/missing.js', { headers: { ...origin, ...FETCH_JSON } });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(OTHER_ORIGIN);
    const fallback = await get(APP, '/app/settings', { headers: { ...origin, ...NAVIGATION } });
    expect(fallback.headers.vary).toMatch(/\bAccept\b/);
    expect(fallback.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('gives a disallowed origin no CORS headers, and answers a preflight itself', async () => {
    const other = await get(APP, '/app/assets/app.js', { headers: { origin: 'https://evil.example.test' } });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await get(APP, '/app/assets/app.js', {
      method: 'OPTIONS',
      headers: { origin: OTHER_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(OTHER_ORIGIN);
  });
});

describe('files that change under a running server', () => {
  it('answers 404, not an error, for a file removed after load', async () => {
    writeSite({ 'assets/gone.js': 'soon gone' });
    expect((await get(FILES, '/assets/gone.js')).status).toBe(200);
    rmSync(join(site, 'assets/gone.js'));
    expect((await get(FILES, '/assets/gone.js')).status).toBe(404);
  });
});
