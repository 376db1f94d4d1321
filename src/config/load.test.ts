import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from './load.js';
import { formatProblem, type ConfigResult } from './parse.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const load = (name: string) => loadConfigFile(fixture(name), {});
const problemsOf = (result: ConfigResult) => (result.ok ? [] : result.problems.map(formatProblem));
const warningsOf = (result: ConfigResult) => result.warnings.map(formatProblem);

const NOT_IMPLEMENTED = 'is a Pomerium setting Gatehouse does not implement: ';
const NOT_YET = (feature: string) =>
  `is not available in this release yet (it comes with ${feature}); remove it`;
const LETS_NOBODY_IN =
  'lets nobody in: set allow_any_authenticated_user, allowed_users or allowed_domains, or allow_public_unauthenticated_access: true to serve it publicly';
const REQUIRED_FOR_SIGN_IN = 'is required: routes[0] is not public, so users sign in';
const NEEDS_TLS =
  'TLS needs certificate_file and certificate_key_file, or set insecure_server: true behind a TLS terminator';

/** Each fixture with every problem it must produce, in order. */
const expectedProblems: Record<string, readonly string[]> = {
  'wrong-type.yaml': ['insecure_server: must be true or false, not "yes"'],
  'from-with-path.yaml': [
    'routes[0].from: must name only a scheme, host and port; use prefix, path or regex to match "/api"',
  ],
  'two-matchers.yaml': ['routes[0]: has both prefix and path; a route takes one path matcher'],
  'prefix-rewrite-and-regex-rewrite.yaml': [
    'routes[0]: has both prefix_rewrite and regex_rewrite_pattern; a route takes one path rewrite',
  ],
  'invalid-regex.yaml': ['routes[0].regex: is not a valid regular expression: Unterminated group'],
  'unsupported-scheme.yaml': ['routes[0].to: scheme "ftp" is not supported; use http:// or https://'],
  'port-out-of-range.yaml': ['address: port "70000" is not a number between 0 and 65535'],
  'unreadable-file.yaml': ['certificate_file: cannot read tls/missing-cert.pem: no such file'],
  'secret-file-and-key.yaml': [
    'shared_secret_file: cannot be given together with shared_secret; give one of them',
  ],
  'unreadable-secret-file.yaml': [
    'cookie_secret: is required: routes[0] is not public, so users sign in',
    'cookie_secret_file: cannot read secrets/missing-cookie-secret: no such file',
  ],
  'pomerium-only-key.yaml': [
    NEEDS_TLS,
    `autocert: ${NOT_IMPLEMENTED}Gatehouse does not obtain certificates; get them with cert-manager or certbot and set certificate_file and certificate_key_file`,
  ],
  'five-mistakes.yaml': [
    'log_level: must be one of debug, info, warn, error, not "verbose"',
    'routes[0].from: must name only a scheme, host and port; use prefix, path or regex to match "/api"',
    'routes[1].to: scheme "ftp" is not supported; use http:// or https://',
    'routes[2]: has both prefix and regex; a route takes one path matcher',
    'routes[3].regex_rewrite_pattern: is not a valid regular expression: Unterminated group',
  ],
  // Sign-in keys load now; what is still refused is named, next to what sign-in lacks.
  'pomerium-quickstart.yaml': [
    `routes[0].pass_identity_headers: ${NOT_YET('identity headers')}`,
    `routes[0].policy: ${NOT_YET('access policies')}`,
    `routes[0]: ${LETS_NOBODY_IN}`,
  ],
  'pomerium-autocert.yaml': [
    NEEDS_TLS,
    `shared_secret: ${REQUIRED_FOR_SIGN_IN}`,
    `cookie_secret: ${REQUIRED_FOR_SIGN_IN}`,
    expect.stringMatching(/^autocert: is a Pomerium setting Gatehouse does not implement: /),
    expect.stringMatching(/^autocert_use_staging: is a Pomerium setting Gatehouse does not implement: /),
    `services: ${NOT_IMPLEMENTED}Gatehouse runs as one service; remove it`,
    `http_redirect_address: ${NOT_IMPLEMENTED}redirect plain HTTP to HTTPS at your load balancer, or remove it`,
  ],
  'pomerium-split-services.yaml': [
    `services: ${NOT_IMPLEMENTED}Gatehouse runs as one service; remove it`,
    `grpc_address: ${NOT_IMPLEMENTED}Gatehouse has no gRPC services; remove it`,
    `grpc_insecure: ${NOT_IMPLEMENTED}Gatehouse has no gRPC services; remove it`,
    `databroker_service_url: ${NOT_IMPLEMENTED}Gatehouse runs as one service; remove it`,
    `authorize_service_url: ${NOT_IMPLEMENTED}Gatehouse runs as one service; remove it`,
    `tracing_provider: ${NOT_IMPLEMENTED}remove it`,
    `routes[0].tls_server_name: ${NOT_IMPLEMENTED}the TLS server name is the host of \`to\`; put that name in the to URL`,
  ],
};

describe('loadConfigFile: fixtures', () => {
  it.each(Object.entries(expectedProblems))('%s is refused with every problem named', (name, problems) => {
    const result = load(name);
    expect(result.ok).toBe(false);
    expect(problemsOf(result)).toEqual(problems);
  });

  it('reports every YAML syntax error of malformed-yaml.yaml with its line and column', () => {
    const problems = problemsOf(load('malformed-yaml.yaml'));
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const problem of problems) {
      expect(problem).toMatch(/malformed-yaml\.yaml line \d+, column \d+: \S/);
    }
  });

  it('loads unknown-key.yaml with a warning for each unknown key', () => {
    const result = load('unknown-key.yaml');
    expect(result.ok).toBe(true);
    expect(warningsOf(result)).toEqual([
      'favourite_colour: unknown key, ignored',
      'routes[0].nickname: unknown key, ignored',
    ]);
  });

  it('loads legacy-policy.yaml, policy entries first, with a warning suggesting routes', () => {
    const result = load('legacy-policy.yaml');
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config.routes.map((route) => route.from.host)).toEqual([
      'old.gatehouse.test',
      'new.gatehouse.test',
    ]);
    expect(warningsOf(result)).toEqual(["policy: is Pomerium's old name for routes; rename it to routes"]);
  });

  it('loads valid-tls.yaml, reading certificate files relative to the config file', () => {
    const result = load('valid-tls.yaml');
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(result.config.certificate_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(result.config.routes).toHaveLength(2);
    expect(result.warnings).toEqual([]);
  });

  it('loads sign-in-secret-files.yaml, reading each secret file without its trailing newline', () => {
    const result = load('sign-in-secret-files.yaml');
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config).toMatchObject({
      shared_secret: 'JHjtK0XSLLyQgcHTUM/39SiLWLwCrHwdsi4a4MkMvJk=',
      cookie_secret: 'Mt/GpqasgMVRL4Wh3m9ctIXYzZ18K+pYcZhP4qsOgfo=',
      idp_client_secret: 'client secret from a mounted file',
      databroker_storage_connection_string: 'redis://127.0.0.1:6379/0',
    });
    expect(result.warnings).toEqual([]);
  });

  it('loads valid-insecure.yaml', () => {
    expect(load('valid-insecure.yaml').ok).toBe(true);
  });

  it('has an expectation for every fixture', () => {
    const covered = new Set([
      ...Object.keys(expectedProblems),
      'malformed-yaml.yaml',
      'unknown-key.yaml',
      'legacy-policy.yaml',
      'valid-tls.yaml',
      'valid-insecure.yaml',
      'sign-in-secret-files.yaml',
    ]);
    expect(readdirSync(FIXTURES).filter((name) => name.endsWith('.yaml') && !covered.has(name))).toEqual([]);
  });
});

describe('loadConfigFile', () => {
  it('reports an unreadable config file as one problem with the OS reason', () => {
    const result = loadConfigFile(fixture('no-such-file.yaml'), {});
    expect(problemsOf(result)).toEqual([`cannot read ${fixture('no-such-file.yaml')}: no such file`]);
  });

  it('reports a directory given as the config file', () => {
    expect(problemsOf(loadConfigFile(FIXTURES, {}))[0]).toMatch(/: it is a directory$/);
  });

  it('applies environment overrides', () => {
    const result = loadConfigFile(fixture('valid-insecure.yaml'), {
      ADDRESS: '127.0.0.1:0',
      LOG_LEVEL: 'error',
    });
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config.address).toBe('127.0.0.1:0');
    expect(result.config.log_level).toBe('error');
  });

  it('lets SHARED_SECRET_FILE from the environment replace the shared_secret_file in the file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'gatehouse-load-'));
    writeFileSync(join(directory, 'rotated'), 'hkYnVJ20n+brlyT7Y07R8jA0SW1HWkBAs+ymz25G3bw=\n');
    const result = loadConfigFile(fixture('sign-in-secret-files.yaml'), {
      SHARED_SECRET_FILE: join(directory, 'rotated'),
    });
    if (!result.ok) throw new Error(problemsOf(result).join('\n'));
    expect(result.config.shared_secret).toBe('hkYnVJ20n+brlyT7Y07R8jA0SW1HWkBAs+ymz25G3bw=');
  });

  it('names the variable when a secret file it gives cannot be read', () => {
    expect(
      problemsOf(loadConfigFile(fixture('sign-in-secret-files.yaml'), { IDP_CLIENT_SECRET_FILE: 'nowhere' })),
    ).toEqual([
      'idp_client_secret: is required: routes[0] is not public, so users sign in',
      'idp_client_secret_file: cannot read nowhere: no such file (set by IDP_CLIENT_SECRET_FILE)',
    ]);
  });

  it('resolves a relative CERTIFICATE_FILE from the environment against the config directory', () => {
    const directory = mkdtempSync(join(tmpdir(), 'gatehouse-load-'));
    const path = join(directory, 'gatehouse.yaml');
    writeFileSync(path, 'routes: []\n');
    const result = loadConfigFile(path, {
      CERTIFICATE_FILE: fixture('tls/cert.pem'),
      CERTIFICATE_KEY_FILE: 'missing-key.pem',
    });
    expect(problemsOf(result)).toEqual([
      'certificate_key_file: cannot read missing-key.pem: no such file (set by CERTIFICATE_KEY_FILE)',
    ]);
  });
});
