/**
 * Certificates, keys and secrets: each may be given inline or as `<key>_file` naming a file whose contents
 * become the value (Pomerium's `certificate_file`, `certificate_key_file`, `tls_custom_ca_file`,
 * `shared_secret_file`, `cookie_secret_file`, `idp_client_secret_file`), so secrets can live in mounted
 * files rather than in the config. Certificates and keys become PEM text whether written as PEM or as
 * base64 of PEM.
 */
import { routeMappings, type Mapping } from './mapping.js';
import { readPem, type PemContent } from './pem.js';
import { describeReadError } from './read-error.js';
import type { PathSegment } from './problem.js';
import type { ProblemAt } from './schema-issues.js';

/**
 * Reads a file named by a `*_file` key, exactly as written in the config; resolving relative names
 * (against the config file's directory) is the reader's job. Throws a Node file system error.
 */
export type ReadFile = (path: string) => string;

interface SecretKey {
  readonly key: string;
  /** PEM is checked and normalized; `text` is taken as written, without surrounding whitespace. */
  readonly content: PemContent | 'text';
}

export const serverSecretKeys: readonly SecretKey[] = [
  { key: 'certificate', content: 'certificate' },
  { key: 'certificate_key', content: 'private key' },
  { key: 'idp_client_secret', content: 'text' },
  { key: 'shared_secret', content: 'text' },
  { key: 'cookie_secret', content: 'text' },
  { key: 'databroker_storage_connection_string', content: 'text' },
];
const routeSecretKeys: readonly SecretKey[] = [{ key: 'tls_custom_ca', content: 'certificate' }];

type Inlined =
  | { readonly kind: 'absent' }
  | { readonly kind: 'problem'; readonly problem: ProblemAt }
  | { readonly kind: 'read'; readonly fileKey: string; readonly fileName: string };

/** Reads the file `<key>_file` names into `<key>`. */
function inlineFile(
  mapping: Mapping,
  path: readonly PathSegment[],
  key: string,
  readFile: ReadFile,
): Inlined {
  const fileKey = `${key}_file`;
  const fileName = mapping[fileKey];
  if (fileName === undefined) return { kind: 'absent' };
  delete mapping[fileKey];
  const problem = (message: string): Inlined => ({
    kind: 'problem',
    problem: { path: [...path, fileKey], message },
  });
  if (mapping[key] !== undefined) return problem(`cannot be given together with ${key}; give one of them`);
  if (typeof fileName !== 'string' || fileName === '') return problem('must be the path of a file');
  let contents: string;
  try {
    contents = readFile(fileName);
  } catch (error) {
    return problem(`cannot read ${fileName}: ${describeReadError(error)}`);
  }
  if (contents.trim() === '') return problem(`${fileName} is empty`);
  mapping[key] = contents;
  return { kind: 'read', fileKey, fileName };
}

function resolveSecret(
  mapping: Mapping,
  path: readonly PathSegment[],
  { key, content }: SecretKey,
  readFile: ReadFile,
): ProblemAt | undefined {
  const inlined = inlineFile(mapping, path, key, readFile);
  if (inlined.kind === 'problem') return inlined.problem;
  const value = mapping[key];
  // Other types are the schema's to report.
  if (typeof value !== 'string' || value === '') return undefined;
  if (content === 'text') {
    // A file usually ends in a newline, which is no part of a secret.
    if (inlined.kind === 'read') mapping[key] = value.trim();
    return undefined;
  }
  const pem = readPem(value, content);
  if (pem.ok) {
    mapping[key] = pem.value;
    return undefined;
  }
  return inlined.kind === 'read'
    ? { path: [...path, inlined.fileKey], message: `${inlined.fileName} ${pem.message}` }
    : { path: [...path, key], message: pem.message };
}

/** Inlines every `*_file` key and turns every certificate and key into PEM, in place. */
export function resolveSecrets(draft: Mapping, readFile: ReadFile): ProblemAt[] {
  const problems: ProblemAt[] = [];
  const resolveAll = (mapping: Mapping, path: readonly PathSegment[], keys: readonly SecretKey[]) => {
    for (const key of keys) {
      const problem = resolveSecret(mapping, path, key, readFile);
      if (problem !== undefined) problems.push(problem);
    }
  };
  resolveAll(draft, [], serverSecretKeys);
  for (const [index, route] of routeMappings(draft.routes)) {
    resolveAll(route, ['routes', index], routeSecretKeys);
  }
  return problems;
}
