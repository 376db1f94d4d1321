import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../src/config/parse.js';

/**
 * The CORS guides promise complete, working configs: every YAML block in them that has `routes:` must load
 * as it stands — secrets and certificates read from the files it names (stood in for here), static
 * directories existing — with no problem and, except where a guide shows one on purpose, no warning. A
 * guide whose config rots fails here, not in a reader's deployment. (The configs' behaviour in a browser is
 * cors-setups.test.ts's.)
 */
const GUIDES = [
  'spa-single-domain.md',
  'sharing-sessions-across-subdomains.md',
  'header-tokens-for-cross-origin-apis.md',
  'cloud-cors-proxy.md',
  'migrating-from-pomerium-cors.md',
] as const;

const read = (relative: string): string =>
  readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');

/** The stand-ins for the files the guides name: the test certificate, and a secret for everything else. */
function standInFile(path: string): string {
  if (path.endsWith('.crt')) return read('../fixtures/tls/localhost-cert.pem');
  if (path.endsWith('.key')) return read('../fixtures/tls/localhost-key.pem');
  if (path.startsWith('/run/secrets/')) return `${Buffer.alloc(32, path.length).toString('base64')}\n`;
  throw new Error(`the guide names a file this test has no stand-in for: ${path}`);
}

function configBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .filter((block) => /^routes:/m.test(block));
}

describe('the configs in the CORS guides', () => {
  // `to: file:///var/www/…` must name a directory that exists when the config loads.
  const www = mkdtempSync(join(tmpdir(), 'gatehouse-guides-'));
  mkdirSync(join(www, 'exosphere'));
  afterAll(() => rmSync(www, { recursive: true, force: true }));

  for (const guide of GUIDES) {
    it(`load without problems: ${guide}`, () => {
      const blocks = configBlocks(read(`../../docs/${guide}`));
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const result = parseConfig({
          text: block.replaceAll('file:///var/www/', `file://${www}/`),
          fileName: guide,
          env: {},
          readFile: standInFile,
        });
        const problems = result.ok ? [] : result.problems.map(formatProblem);
        expect(problems, block).toEqual([]);
        if (result.ok) expect(result.warnings.map(formatProblem), block).toEqual([]);
      }
    });
  }
});
