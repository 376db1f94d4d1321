import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, parseConfig, type ConfigResult } from './parse.js';

let base = '';
let site = '';

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'gatehouse-static-root-'));
  site = join(base, 'my site');
  mkdirSync(site);
  writeFileSync(join(base, 'file.txt'), 'not a directory');
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

function parseTo(to: string): ConfigResult {
  return parseConfig({
    text: `insecure_server: true
routes:
  - from: https://app.gatehouse.test
    to: ${to}
    allow_public_unauthenticated_access: true
`,
    fileName: 'gatehouse.yaml',
    env: {},
    readFile: () => {
      throw new Error('no files');
    },
  });
}

function problemsOf(result: ConfigResult): string[] {
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('to: file:///dir', () => {
  it('loads an existing directory as the route’s static root', () => {
    const result = parseTo(`"file://${site}/"`);
    expect(problemsOf(result)).toEqual([]);
    expect(result.ok && result.config.routes[0]?.to).toEqual([
      { url: `file://${site}/`, protocol: 'file:', root: site },
    ]);
  });

  it('decodes percent escapes in the path', () => {
    const result = parseTo(`file://${base}/my%20site`);
    expect(result.ok && result.config.routes[0]?.to?.[0]).toMatchObject({ root: site });
  });

  it('refuses a directory that does not exist, by path', () => {
    expect(problemsOf(parseTo(`file://${base}/missing`))).toEqual([
      `routes[0].to: cannot serve ${base}/missing: no such file`,
    ]);
  });

  it('refuses a file that is not a directory', () => {
    expect(problemsOf(parseTo(`file://${base}/file.txt`))).toEqual([
      `routes[0].to: cannot serve ${base}/file.txt: it is not a directory`,
    ]);
  });

  it('refuses a host: file://host/dir names another machine', () => {
    expect(problemsOf(parseTo('file://fileserver/srv/app'))).toEqual([
      'routes[0].to: may not name a host; write file:/// followed by an absolute directory path, like file:///srv/app',
    ]);
  });

  it('refuses a relative or single-slash path', () => {
    for (const url of ['file:srv/app', 'file:/srv/app']) {
      expect(problemsOf(parseTo(url))).toEqual([
        'routes[0].to: must be file:/// followed by an absolute directory path, like file:///srv/app',
      ]);
    }
  });

  it('refuses a query or fragment, and the whole file system', () => {
    expect(problemsOf(parseTo(`"file://${site}?x=1"`))).toEqual([
      'routes[0].to: may not contain a query or fragment',
    ]);
    expect(problemsOf(parseTo('file:///'))).toEqual([
      'routes[0].to: may not serve the whole file system; name a directory',
    ]);
    expect(problemsOf(parseTo('file:///srv/..'))).toEqual([
      'routes[0].to: may not serve the whole file system; name a directory',
    ]);
  });

  it('refuses a NUL or other control character in the path', () => {
    expect(problemsOf(parseTo(`file://${site}%00/x`))).toEqual([
      'routes[0].to: may not contain control characters',
    ]);
  });

  it('must be the route’s only to entry', () => {
    expect(problemsOf(parseTo(`["http://app:3000", "file://${site}"]`))).toEqual([
      'routes[0].to[1]: a file:/// directory must be the route’s only `to` entry; make a route for it alone',
    ]);
  });
});
