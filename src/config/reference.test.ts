import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from './reference.js';

describe('the configuration reference', () => {
  it('documents every top-level and route key with its type and default', () => {
    const reference = renderConfigReference();
    expect(reference).toMatch(/\| `default_upstream_timeout` \| duration \| `30s` \|/);
    expect(reference).toMatch(/\| `from` \| URL \| +\|/);
    expect(reference).toMatch(/\| `log_level` \| one of debug, info, warn, error \| `"info"` \|/);
    expect(reference).toMatch(/\| `routes` \| list of routes \| `\[\]` \|/);
    expect(reference).toMatch(/\| `cors` \| CORS policy \(keys below\) \| +\|/);
  });

  it('documents the keys of a route’s cors block with their defaults', () => {
    const reference = renderConfigReference();
    expect(reference).toContain('## CORS keys (`routes[].cors`)');
    expect(reference).toMatch(/\| `allowed_origins` \| list of origins \| +\|/);
    expect(reference).toMatch(
      /\| `allowed_methods` \| list of methods, or \* \| `\["GET","HEAD","POST"\]` \|/,
    );
    expect(reference).toMatch(/\| `allow_credentials` \| boolean \| `false` \|/);
  });

  it('is what docs/configuration.md holds, so the docs never drift from the schema', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });
});
