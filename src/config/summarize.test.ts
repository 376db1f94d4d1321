import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './parse.js';
import type { GatehouseConfig } from './schema.js';
import { summarizeConfig } from './summarize.js';

function configFrom(text: string): GatehouseConfig {
  const result = parseConfig({
    text,
    fileName: 'gatehouse.yaml',
    env: {},
    readFile: () => {
      throw new Error('no files in this test');
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

describe('summarizeConfig', () => {
  it('lists the listen address, the transport and one line per route', () => {
    const config = configFrom(`
insecure_server: true
address: 127.0.0.1:9000
routes:
  - from: https://app.example.com
    prefix: /api
    to: http://api:8080
    allow_public_unauthenticated_access: true
    allow_websockets: true
  - name: docs
    from: https://docs.example.com
    path: /index.html
    to: [http://docs-1:80, http://docs-2:80]
    host_rewrite: docs.internal
    allow_public_unauthenticated_access: true
  - from: https://legacy.example.com
    regex: /v[12]/.*
    to: https://legacy:8443
    tls_skip_verify: true
    allow_public_unauthenticated_access: true
  - from: https://all.example.com
    to: http://all:80
    allow_public_unauthenticated_access: true
`);
    expect(summarizeConfig(config).split('\n')).toEqual([
      'listening on 127.0.0.1:9000 with plain HTTP (insecure_server: TLS ends in front of Gatehouse)',
      'routes[0] https://app.example.com /api (prefix) → http://api:8080 [public, websockets]',
      'routes[1] (docs) https://docs.example.com /index.html (path) → http://docs-1:80, http://docs-2:80 [public, host docs.internal]',
      'routes[2] https://legacy.example.com /v[12]/.* (regex) → https://legacy:8443 [public, upstream TLS not verified]',
      'routes[3] https://all.example.com (any path) → http://all:80 [public]',
    ]);
  });

  it('says TLS when Gatehouse terminates TLS itself', () => {
    const base64 = (path: string) =>
      readFileSync(new URL(`../../test/fixtures/config/tls/${path}`, import.meta.url)).toString('base64');
    const config = configFrom(`certificate: ${base64('cert.pem')}\ncertificate_key: ${base64('key.pem')}\n`);
    expect(summarizeConfig(config)).toBe('listening on :8443 with TLS\nno routes');
  });

  it('shows the default address and says when there are no routes', () => {
    expect(summarizeConfig(configFrom('insecure_server: true\n'))).toBe(
      'listening on :8080 with plain HTTP (insecure_server: TLS ends in front of Gatehouse)\nno routes',
    );
  });
});
