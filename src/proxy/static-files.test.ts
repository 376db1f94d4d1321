import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptsHtml,
  contentTypeOf,
  etagOf,
  evaluateConditions,
  lookUpFile,
  mayFallBack,
  resolveRequestPath,
  type FileValidators,
} from './static-files.js';

function fixture<T>(name: string): T {
  const url = new URL(`../../test/fixtures/static-files/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/** `{a*256}` in a fixture stands for 256 `a`s; `{/abcdefgh*600}` for 600 `/abcdefgh`. */
function expand(text: string): string {
  return text.replace(/\{(.+?)\*(\d+)\}/gu, (_, unit: string, times: string) => unit.repeat(Number(times)));
}

interface ContentTypeCase {
  name: string;
  type: string;
  note?: string;
}

interface PathCase {
  class: string;
  note: string;
  path: string;
  expected: { segments: string[]; isDirectory: boolean } | null;
}

interface LookupFixture {
  tree: {
    files: Record<string, string>;
    symlinks: Record<string, string>;
    outside: Record<string, string>;
    fifos: string[];
  };
  cases: { class: string; note: string; segments: string[]; expected: string }[];
}

describe('contentTypeOf', () => {
  it.each(fixture<ContentTypeCase[]>('content-types.json'))('$name is $type', ({ name, type }) => {
    expect(contentTypeOf(name)).toBe(type);
  });
});

describe('resolveRequestPath', () => {
  const cases = fixture<PathCase[]>('request-paths.json');

  it.each(cases.filter((entry) => entry.expected !== null))('accepts $note: $path', ({ path, expected }) => {
    const segments = expected?.segments.map(expand);
    expect(resolveRequestPath(expand(path))).toEqual({ ...expected, segments });
  });

  const attacks = cases.filter((entry) => entry.expected === null);
  const attackClasses = [...new Set(attacks.map((entry) => entry.class))];
  it('has attack cases for every class the brief names', () => {
    expect(attackClasses).toEqual(
      expect.arrayContaining([
        'dot-dot',
        'encoded-separator',
        'backslash',
        'nul',
        'hidden',
        'very-long-name',
        'invalid-encoding',
      ]),
    );
  });

  describe.each(attackClasses)('refuses %s paths', (attackClass) => {
    it.each(attacks.filter((entry) => entry.class === attackClass))('$note', ({ path }) => {
      expect(resolveRequestPath(expand(path))).toBeUndefined();
    });
  });
});

describe('lookUpFile', () => {
  const { tree, cases } = fixture<LookupFixture>('lookups.json');
  let base = '';
  let root = '';

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'gatehouse-static-'));
    root = join(base, 'root');
    const write = (directory: string, files: Record<string, string>) => {
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(directory, name)), { recursive: true });
        writeFileSync(join(directory, name), content);
      }
    };
    write(root, tree.files);
    write(join(base, 'outside'), tree.outside);
    for (const [name, target] of Object.entries(tree.symlinks)) symlinkSync(target, join(root, name));
    for (const name of tree.fifos) execFileSync('mkfifo', [join(root, name)]);
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  describe.each([...new Set(cases.map((entry) => entry.class))])('%s', (lookupClass) => {
    it.each(cases.filter((entry) => entry.class === lookupClass))(
      '$note → $expected',
      async ({ segments, expected }) => {
        const found = await lookUpFile(root, segments.map(expand));
        if (found.kind === 'file') {
          await found.handle.close();
          expect(found.name).toBe(join(root, expected));
        } else {
          expect(found.kind).toBe(expected);
        }
      },
    );
  });

  it('reads the root’s symlink per request, so a deploy that switches it is seen', async () => {
    const releases = join(base, 'releases');
    write(join(releases, 'one'), 'one');
    write(join(releases, 'two'), 'two');
    const current = join(base, 'current');
    symlinkSync(join(releases, 'one'), current);
    expect(await contentOf(current)).toBe('one');
    rmSync(current);
    symlinkSync(join(releases, 'two'), current);
    expect(await contentOf(current)).toBe('two');

    function write(directory: string, content: string) {
      mkdirSync(directory, { recursive: true });
      writeFileSync(join(directory, 'index.html'), content);
    }
  });

  it('answers missing for every path once the root itself is gone', async () => {
    expect((await lookUpFile(join(base, 'no-such-root'), ['index.html'])).kind).toBe('missing');
  });

  async function contentOf(directory: string): Promise<string> {
    const found = await lookUpFile(directory, []);
    if (found.kind !== 'file') throw new Error(`expected a file, found ${found.kind}`);
    try {
      return (await found.handle.readFile()).toString('utf8');
    } finally {
      await found.handle.close();
    }
  }
});

describe('the SPA fallback', () => {
  const route = (path: string) => {
    const requested = resolveRequestPath(path);
    if (requested === undefined) throw new Error(`unexpected refusal of ${path}`);
    return requested;
  };

  it('serves index.html for a client-side route a browser navigates to', () => {
    expect(mayFallBack(route('/settings/profile'), 'text/html,application/xhtml+xml,*/*;q=0.8')).toBe(true);
  });

  it('serves it for a directory-shaped path and when no Accept is sent', () => {
    expect(mayFallBack(route('/settings/'), undefined)).toBe(true);
    expect(mayFallBack(route('/settings'), '')).toBe(true);
  });

  it('keeps a missing asset a 404: its last segment has an extension', () => {
    expect(mayFallBack(route('/assets/app.js'), '*/*')).toBe(false);
    expect(mayFallBack(route('/favicon.ico'), 'text/html')).toBe(false);
  });

  it('keeps a 404 for a client that does not take HTML', () => {
    expect(mayFallBack(route('/api/users'), 'application/json')).toBe(false);
    expect(mayFallBack(route('/api/users'), 'text/html;q=0, */*')).toBe(false);
  });

  it.each([
    ['*/*', true],
    ['text/*', true],
    ['text/html;q=0.1', true],
    ['application/json, */*;q=0.5', true],
    ['application/json', false],
    ['text/html;q=0', false],
    ['*/*;q=0', false],
    ['text/*;q=0, */*', false],
    ['TEXT/HTML', true],
    ['text/html;q=abc', false],
  ])('Accept %j takes HTML: %s', (accept, expected) => {
    expect(acceptsHtml(accept)).toBe(expected);
  });
});

describe('conditional requests', () => {
  const modifiedMs = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
  const file: FileValidators = { etag: '"1a-17c0"', modifiedMs };
  const at = (ms: number) => new Date(ms).toUTCString();

  it('builds a strong ETag that changes with the size and with the modification time', () => {
    const etag = etagOf({ size: 26n, mtimeNs: 1_000_000_123n });
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(etagOf({ size: 27n, mtimeNs: 1_000_000_123n })).not.toBe(etag);
    expect(etagOf({ size: 26n, mtimeNs: 1_000_000_124n })).not.toBe(etag);
  });

  it('answers 304 for a matching If-None-Match, also weak, in a list, or *', () => {
    for (const value of ['"1a-17c0"', 'W/"1a-17c0"', '"other", "1a-17c0"', '*']) {
      expect(evaluateConditions({ 'if-none-match': value }, file)).toBe('not-modified');
    }
    expect(evaluateConditions({ 'if-none-match': '"other"' }, file)).toBe('send');
  });

  it('answers 304 when If-Modified-Since is not before the modification second', () => {
    expect(evaluateConditions({ 'if-modified-since': at(modifiedMs) }, file)).toBe('not-modified');
    expect(evaluateConditions({ 'if-modified-since': at(modifiedMs + 60_000) }, file)).toBe('not-modified');
    expect(evaluateConditions({ 'if-modified-since': at(modifiedMs - 1000) }, file)).toBe('send');
  });

  it('ignores an If-Modified-Since that is not a date', () => {
    expect(evaluateConditions({ 'if-modified-since': 'yesterday' }, file)).toBe('send');
  });

  it('lets a non-matching If-None-Match win over a matching If-Modified-Since (RFC 9110 §13.2.2)', () => {
    const headers = { 'if-none-match': '"old"', 'if-modified-since': at(modifiedMs) };
    expect(evaluateConditions(headers, file)).toBe('send');
  });

  it('fails If-Match unless a strong tag matches', () => {
    expect(evaluateConditions({ 'if-match': '"1a-17c0"' }, file)).toBe('send');
    expect(evaluateConditions({ 'if-match': '*' }, file)).toBe('send');
    expect(evaluateConditions({ 'if-match': 'W/"1a-17c0"' }, file)).toBe('precondition-failed');
    expect(evaluateConditions({ 'if-match': '"old"' }, file)).toBe('precondition-failed');
  });

  it('fails If-Unmodified-Since when the file changed after it', () => {
    expect(evaluateConditions({ 'if-unmodified-since': at(modifiedMs - 1000) }, file)).toBe(
      'precondition-failed',
    );
    expect(evaluateConditions({ 'if-unmodified-since': at(modifiedMs) }, file)).toBe('send');
  });
});
