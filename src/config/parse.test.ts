import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig, type ConfigResult } from './parse.js';

const CERT = readFileSync(new URL('../../test/fixtures/config/tls/cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../../test/fixtures/config/tls/key.pem', import.meta.url), 'utf8');
const base64 = (text: string) => Buffer.from(text).toString('base64');

const PUBLIC_ROUTE = `
routes:
  - from: https://app.gatehouse.test
    to: http://app:3000
    allow_public_unauthenticated_access: true
`;
const INSECURE = `insecure_server: true\n${PUBLIC_ROUTE}`;

interface Options {
  env?: Record<string, string | undefined>;
  files?: Record<string, string>;
}

function parse(text: string, { env = {}, files = {} }: Options = {}): ConfigResult {
  return parseConfig({
    text,
    fileName: 'gatehouse.yaml',
    env,
    readFile: (path) => {
      const contents = files[path];
      if (contents === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return contents;
    },
  });
}

function problemsOf(result: ConfigResult): string[] {
  return result.ok ? [] : result.problems.map(formatProblem);
}

function configOf(result: ConfigResult) {
  if (!result.ok)
    throw new Error(`expected a valid config, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.config;
}

describe('parseConfig: YAML', () => {
  it('reports every syntax error with its line and column', () => {
    const problems = problemsOf(parse('a: [1, 2\nb: "open\n'));
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems[0]).toMatch(/^gatehouse\.yaml line 2, column 1: /);
    expect(problems.every((problem) => /line \d+, column \d+: /.test(problem))).toBe(true);
  });

  it('refuses duplicate keys', () => {
    expect(problemsOf(parse('insecure_server: true\ninsecure_server: false\n'))[0]).toContain(
      'line 2, column 1',
    );
  });

  it('refuses a document that is not a mapping', () => {
    expect(problemsOf(parse('- from: https://a.test\n'))).toEqual([
      'gatehouse.yaml must be a mapping of keys such as address: and routes:, not a list',
    ]);
    expect(problemsOf(parse('just text\n'))[0]).toContain('not a single string');
  });

  it('reports an alias to an anchor that does not exist, without a stack trace', () => {
    const problems = problemsOf(parse('insecure_server: *missing\n'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('missing');
    expect(problems[0]).not.toContain('    at ');
  });

  it('treats an empty file as an empty mapping the environment can fill', () => {
    const config = configOf(parse('', { env: { INSECURE_SERVER: 'true' } }));
    expect(config.insecure_server).toBe(true);
    expect(config.routes).toEqual([]);
  });
});

describe('parseConfig: schema problems', () => {
  it('reports every problem with the path of its key', () => {
    const problems = problemsOf(
      parse(`
insecure_server: 1
log_level: loud
default_upstream_timeout: soon
routes:
  - from: https://app.gatehouse.test/path
    to: [http://app:3000, 5]
    allow_public_unauthenticated_access: true
    set_request_headers: { "bad header": x }
  - to: http://b:80
    allow_public_unauthenticated_access: true
`),
    );
    expect(problems).toEqual([
      'insecure_server: must be true or false, not 1',
      'log_level: must be one of debug, info, warn, error, not "loud"',
      'default_upstream_timeout: "soon" is not a duration; write it like 30s, 1m30s, 500ms or 2h',
      'routes[0].from: must name only a scheme, host and port; use prefix, path or regex to match "/path"',
      'routes[0].to[1]: must be a string, not 5',
      'routes[0].set_request_headers["bad header"]: is not a valid header name',
      'routes[1].from: is required',
    ]);
  });

  it('names the types a key takes when the value has none of them', () => {
    expect(
      problemsOf(
        parse(
          `insecure_server: true\nroutes:\n  - from: https://a.test\n    to: 5\n    allow_public_unauthenticated_access: true\n`,
        ),
      ),
    ).toEqual(['routes[0].to: must be a string or a list, not 5']);
  });

  it('reports a problem in a single to URL at `to`, not `to[0]`', () => {
    const problems = problemsOf(parse(INSECURE.replace('http://app:3000', 'ftp://app')));
    expect(problems).toEqual(['routes[0].to: scheme "ftp" is not supported; use http:// or https://']);
  });

  it('returns the parsed config, deep-frozen', () => {
    const config = configOf(parse(INSECURE));
    const [route] = config.routes;
    expect(route?.from.host).toBe('app.gatehouse.test');
    expect(route?.to?.[0]).toMatchObject({ origin: 'http://app:3000' });
    expect(config.default_upstream_timeout).toBe(30_000);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes)).toBe(true);
    expect(Object.isFrozen(route?.to?.[0])).toBe(true);
    expect(Object.isFrozen(route?.set_request_headers)).toBe(true);
  });
});

describe('parseConfig: keys the schema does not know', () => {
  it('warns about unknown keys and still loads', () => {
    const result = parse(`${INSECURE}    nickname: app\nfavourite_colour: blue\n`);
    expect(result.ok).toBe(true);
    expect(result.warnings.map(formatProblem)).toEqual([
      'routes[0].nickname: unknown key, ignored',
      'favourite_colour: unknown key, ignored',
    ]);
  });

  it('refuses Pomerium keys Gatehouse does not implement, saying what to do instead', () => {
    expect(problemsOf(parse(`services: all\n${INSECURE}`))).toEqual([
      'services: is a Pomerium setting Gatehouse does not implement: Gatehouse runs as one service; remove it',
    ]);
  });

  it('refuses keys of features that are not available yet', () => {
    expect(
      problemsOf(parse(`${INSECURE}    policy: [{ allow: { or: [{ email: { is: a@b.c } }] } }]\n`)),
    ).toEqual([
      'routes[0].policy: is not available in this release yet (it comes with access policies); remove it',
    ]);
  });

  it('refuses IdP directory settings, since groups come from the IdP at sign-in', () => {
    expect(problemsOf(parse(`idp_service_account: e30=\n${INSECURE}`))).toEqual([
      "idp_service_account: is a Pomerium setting Gatehouse does not implement: Gatehouse reads users and groups from the IdP's ID token and UserInfo at sign-in; remove it",
    ]);
  });

  it('reports unknown keys next to other problems', () => {
    const result = parse(`autocert: true\nwhatever: 1\n${INSECURE}\nlog_level: 7\n`);
    expect(problemsOf(result)).toEqual([
      expect.stringMatching(/^autocert: is a Pomerium setting/),
      'log_level: must be one of debug, info, warn, error, not 7',
    ]);
    expect(result.warnings.map(formatProblem)).toEqual(['whatever: unknown key, ignored']);
  });
});

describe('parseConfig: the legacy policy list', () => {
  const legacy = `
insecure_server: true
policy:
  - from: https://old.gatehouse.test
    to: http://old:3000
    allow_public_unauthenticated_access: true
routes:
  - from: https://new.gatehouse.test
    to: http://new:3000
    allow_public_unauthenticated_access: true
`;

  it('serves policy entries before routes, with a warning suggesting routes', () => {
    const result = parse(legacy);
    expect(configOf(result).routes.map((route) => route.from.host)).toEqual([
      'old.gatehouse.test',
      'new.gatehouse.test',
    ]);
    expect(result.warnings.map(formatProblem)).toEqual([
      "policy: is Pomerium's old name for routes; rename it to routes",
    ]);
  });

  it('reports problems at the policy or routes entry the user wrote', () => {
    const problems = problemsOf(
      parse(legacy.replace('http://old:3000', 'ftp://old').replace('http://new:3000', 'gopher://new')),
    );
    expect(problems).toEqual([
      'policy[0].to: scheme "ftp" is not supported; use http:// or https://',
      'routes[0].to: scheme "gopher" is not supported; use http:// or https://',
    ]);
  });

  it('refuses a top-level policy that is not a list', () => {
    expect(problemsOf(parse(`${INSECURE}policy: { allow: true }\n`))).toEqual([
      "policy: is Pomerium's old name for routes and must be a list of routes; write them under routes",
    ]);
  });
});

describe('parseConfig: environment overrides', () => {
  it('lets an upper-case variable override a top-level key', () => {
    const config = configOf(
      parse(`${INSECURE}address: :9000\nlog_level: info\n`, {
        env: { ADDRESS: ':7000', LOG_LEVEL: 'debug' },
      }),
    );
    expect(config.address).toBe(':7000');
    expect(config.log_level).toBe('debug');
  });

  it('reads values of non-string keys as YAML', () => {
    const config = configOf(
      parse('', {
        env: {
          INSECURE_SERVER: 'true',
          ROUTES:
            '[{from: https://env.gatehouse.test, to: "http://env:80", allow_public_unauthenticated_access: true}]',
          TRUSTED_PROXIES: '[10.0.0.0/8]',
          DEFAULT_UPSTREAM_TIMEOUT: '5',
        },
      }),
    );
    expect(config.insecure_server).toBe(true);
    expect(config.routes[0]?.from.host).toBe('env.gatehouse.test');
    expect(config.trusted_proxies).toEqual(['10.0.0.0/8']);
    expect(config.default_upstream_timeout).toBe(5000);
  });

  it('takes string values as raw text, so PEM keeps its line breaks', () => {
    const config = configOf(parse(PUBLIC_ROUTE, { env: { CERTIFICATE: CERT, CERTIFICATE_KEY: KEY } }));
    expect(config.certificate).toBe(CERT);
  });

  it('ignores empty variables and variables for keys it does not have', () => {
    const config = configOf(parse(INSECURE, { env: { ADDRESS: '', AUTOCERT: 'true', PATH: '/usr/bin' } }));
    expect(config.address).toBeUndefined();
  });

  it('says which variable a bad value came from', () => {
    expect(problemsOf(parse(INSECURE, { env: { LOG_LEVEL: 'chatty' } }))).toEqual([
      'log_level: must be one of debug, info, warn, error, not "chatty" (set by LOG_LEVEL)',
    ]);
    const [problem] = problemsOf(parse(INSECURE, { env: { ROUTES: '[{from: ' } }));
    expect(problem).toMatch(/^routes: environment variable ROUTES: line 1, column \d+: /);
    expect(problem).not.toContain('set by');
  });

  it('lets CERTIFICATE_FILE replace a certificate written in the file', () => {
    const config = configOf(
      parse(`certificate: not pem at all\ncertificate_key_file: key.pem\n${PUBLIC_ROUTE}`, {
        env: { CERTIFICATE_FILE: '/run/secrets/cert.pem' },
        files: { '/run/secrets/cert.pem': CERT, 'key.pem': KEY },
      }),
    );
    expect(config.certificate).toBe(CERT);
  });
});

describe('parseConfig: certificates, keys and *_file', () => {
  const tls = (extra: string) => `${extra}${PUBLIC_ROUTE}`;

  it('reads certificate_file and certificate_key_file into certificate and certificate_key', () => {
    const config = configOf(
      parse(tls('certificate_file: cert.pem\ncertificate_key_file: key.pem\n'), {
        files: { 'cert.pem': CERT, 'key.pem': KEY },
      }),
    );
    expect(config.certificate).toBe(CERT);
    expect(config.certificate_key).toBe(KEY);
  });

  it('decodes base64 of PEM so consumers always get PEM', () => {
    const config = configOf(parse(tls(`certificate: ${base64(CERT)}\ncertificate_key: ${base64(KEY)}\n`)));
    expect(config.certificate).toBe(CERT);
    expect(config.certificate_key).toBe(KEY);
  });

  it('refuses a value that is neither PEM nor base64 of PEM', () => {
    expect(
      problemsOf(parse(tls(`certificate: hello world!\ncertificate_key: ${base64('plain text')}\n`))),
    ).toEqual([
      'certificate: is neither PEM (-----BEGIN CERTIFICATE----- …) nor base64 of PEM',
      'certificate_key: is base64 but does not decode to a PEM private key; base64-encode the PEM file itself',
    ]);
  });

  it('notices a certificate and key given the wrong way round', () => {
    const problems = problemsOf(
      parse(tls('certificate_file: key.pem\ncertificate_key_file: cert.pem\n'), {
        files: { 'cert.pem': CERT, 'key.pem': KEY },
      }),
    );
    expect(problems).toEqual([
      'certificate_file: key.pem contains no certificate (expected a -----BEGIN CERTIFICATE----- block)',
      'certificate_key_file: cert.pem contains no private key (expected a -----BEGIN PRIVATE KEY----- block)',
    ]);
  });

  it('names the key and the OS reason for an unreadable file', () => {
    expect(problemsOf(parse(tls('certificate_file: /x/cert.pem\ncertificate_key: x\n'), {}))).toContain(
      'certificate_file: cannot read /x/cert.pem: no such file',
    );
  });

  it('refuses a key given both inline and as a file', () => {
    const problems = problemsOf(
      parse(
        tls(`certificate: ${base64(CERT)}\ncertificate_file: cert.pem\ncertificate_key: ${base64(KEY)}\n`),
        {
          files: { 'cert.pem': CERT },
        },
      ),
    );
    expect(problems).toEqual([
      'certificate_file: cannot be given together with certificate; give one of them',
    ]);
  });

  it('refuses an empty file', () => {
    expect(
      problemsOf(
        parse(tls(`certificate_file: c.pem\ncertificate_key: ${base64(KEY)}\n`), {
          files: { 'c.pem': '\n' },
        }),
      ),
    ).toEqual(['certificate_file: c.pem is empty']);
  });

  it('reads a route tls_custom_ca_file and decodes tls_custom_ca', () => {
    const config = configOf(
      parse(
        `${INSECURE}    tls_custom_ca_file: ca.pem\n  - from: https://b.gatehouse.test\n    to: https://b\n    tls_custom_ca: ${base64(CERT)}\n    allow_public_unauthenticated_access: true\n`,
        {
          files: { 'ca.pem': CERT },
        },
      ),
    );
    expect(config.routes.map((route) => route.tls_custom_ca)).toEqual([CERT, CERT]);
  });

  it('reports a bad route CA at its path', () => {
    expect(problemsOf(parse(`${INSECURE}    tls_custom_ca: nonsense!\n`))).toEqual([
      'routes[0].tls_custom_ca: is neither PEM (-----BEGIN CERTIFICATE----- …) nor base64 of PEM',
    ]);
  });
});

describe('parseConfig: top-level checks', () => {
  it('requires a certificate and key unless insecure_server is set', () => {
    expect(problemsOf(parse(PUBLIC_ROUTE))).toEqual([
      'TLS needs certificate_file and certificate_key_file, or set insecure_server: true behind a TLS terminator',
    ]);
    expect(problemsOf(parse(`certificate: ${base64(CERT)}\n${PUBLIC_ROUTE}`))).toEqual([
      'certificate_key: is missing; TLS needs certificate_file and certificate_key_file, or set insecure_server: true behind a TLS terminator',
    ]);
  });

  it('refuses a bad listen address', () => {
    expect(problemsOf(parse(`${INSECURE}address: :70000\n`))).toEqual([
      'address: port "70000" is not a number between 0 and 65535',
    ]);
  });

  it('refuses trusted_proxies entries that are not IPs or CIDRs', () => {
    expect(
      problemsOf(parse(`${INSECURE}trusted_proxies: [10.0.0.0/8, proxy.internal, 10.0.0.0/33]\n`)),
    ).toEqual([
      'trusted_proxies[1]: "proxy.internal" is not an IP address or a CIDR such as 10.0.0.0/8',
      'trusted_proxies[2]: "10.0.0.0/33" is not an IP address or a CIDR such as 10.0.0.0/8',
    ]);
  });
});

describe('parseConfig: route checks', () => {
  it('lists problems in the order of the file, route checks and schema problems together', () => {
    const problems = problemsOf(
      parse(`
insecure_server: true
routes:
  - from: https://a.gatehouse.test
    to: http://a
    prefix: a
    allow_public_unauthenticated_access: true
  - from: https://b.gatehouse.test
    to: http//b
    allow_public_unauthenticated_access: true
log_level: nope
`),
    );
    expect(problems).toEqual([
      'routes[0].prefix: must start with "/", like /a',
      'routes[1].to: "http//b" is not a valid URL',
      'log_level: must be one of debug, info, warn, error, not "nope"',
    ]);
  });
});

describe('parseConfig: secrets in files', () => {
  const SHARED = 'JHjtK0XSLLyQgcHTUM/39SiLWLwCrHwdsi4a4MkMvJk=';
  const COOKIE = 'Mt/GpqasgMVRL4Wh3m9ctIXYzZ18K+pYcZhP4qsOgfo=';
  const signIn = (secrets: string) => `
insecure_server: true
idp_provider_url: https://login.example.com
idp_client_id: gatehouse
${secrets}
routes:
  - from: https://app.gatehouse.test
    to: http://app:3000
    allow_any_authenticated_user: true
`;
  const inline = { shared_secret: SHARED, cookie_secret: COOKIE, idp_client_secret: 'client-secret' };
  const secretKeys = Object.keys(inline) as (keyof typeof inline)[];
  /** The three secrets inline, except `fileKey`'s, which is read from `/run/secrets/<key>`. */
  const withFile = (key: keyof typeof inline, extra = '') =>
    signIn(
      secretKeys
        .map((name) => (name === key ? `${name}_file: /run/secrets/${name}` : `${name}: ${inline[name]}`))
        .join('\n') + extra,
    );

  it.each(secretKeys)('reads %s_file, without the newline the file ends in', (key) => {
    const config = configOf(parse(withFile(key), { files: { [`/run/secrets/${key}`]: `${inline[key]}\n` } }));
    expect(config[key]).toBe(inline[key]);
  });

  it('takes a secret file as text, keeping what is inside the line', () => {
    const config = configOf(
      parse(withFile('idp_client_secret'), {
        files: { '/run/secrets/idp_client_secret': '  two words \r\n' },
      }),
    );
    expect(config.idp_client_secret).toBe('two words');
  });

  it.each(secretKeys)('refuses %s given both inline and as a file', (key) => {
    expect(
      problemsOf(
        parse(withFile(key, `\n${key}: ${inline[key]}`), {
          files: { [`/run/secrets/${key}`]: inline[key] },
        }),
      ),
    ).toEqual([`${key}_file: cannot be given together with ${key}; give one of them`]);
  });

  it.each(secretKeys)('names %s_file and the file when it cannot be read', (key) => {
    expect(problemsOf(parse(withFile(key)))).toEqual([
      `${key}: is required: routes[0] is not public, so users sign in`,
      `${key}_file: cannot read /run/secrets/${key}: no such file`,
    ]);
  });

  it('refuses an empty secret file rather than signing with an empty key', () => {
    expect(
      problemsOf(parse(withFile('shared_secret'), { files: { '/run/secrets/shared_secret': '\n' } })),
    ).toContain('shared_secret_file: /run/secrets/shared_secret is empty');
  });

  it('checks a secret read from a file like one written inline', () => {
    expect(
      problemsOf(parse(withFile('cookie_secret'), { files: { '/run/secrets/cookie_secret': 'c2hvcnQ=\n' } })),
    ).toEqual([
      'cookie_secret: must decode to exactly 32 bytes, not 5; generate one with `head -c32 /dev/urandom | base64`',
    ]);
  });
});
