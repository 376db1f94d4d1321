/**
 * Environment overrides, as Pomerium reads its own keys from the environment: every top-level key can be
 * set by a variable of the same name in upper case (`ADDRESS`, `INSECURE_SERVER`, `ROUTES`), and the
 * environment wins over the file. File-backed keys also take `<KEY>_FILE` (`CERTIFICATE_FILE`).
 *
 * A value the key accepts as text is taken as text (so PEM keeps its line breaks); any other value is
 * read as YAML, so `INSECURE_SERVER=true` is a boolean and `ROUTES='[{from: …, to: …}]'` a list.
 * An empty variable counts as unset, as it does for Pomerium (viper ignores empty variables).
 */
import type { Mapping } from './mapping.js';
import { configSchema } from './schema.js';
import type { ProblemAt } from './schema-issues.js';
import { serverSecretKeys } from './secrets.js';
import type { Parsed } from './urls.js';

export type ParseYaml = (text: string) => Parsed<unknown>;

export interface EnvOverrides {
  readonly problems: readonly ProblemAt[];
  /** Top-level key → the variable that set it, so problems in the value can name the variable. */
  readonly variables: ReadonlyMap<string, string>;
}

interface TextCheck {
  safeParse(value: unknown): { success: boolean };
}

const keySchemas: Readonly<Record<string, TextCheck>> = configSchema.shape;

export function applyEnvOverrides(
  draft: Mapping,
  env: Readonly<Record<string, string | undefined>>,
  parseYaml: ParseYaml,
): EnvOverrides {
  const problems: ProblemAt[] = [];
  const variables = new Map<string, string>();
  const readVariable = (key: string) => {
    const variable = key.toUpperCase();
    const text = env[variable];
    return text === undefined || text === '' ? undefined : { variable, text };
  };

  for (const [key, schema] of Object.entries(keySchemas)) {
    const found = readVariable(key);
    if (found === undefined) continue;
    const value: Parsed<unknown> = schema.safeParse(found.text).success
      ? { ok: true, value: found.text }
      : parseYaml(found.text);
    if (value.ok) {
      draft[key] = value.value;
      variables.set(key, found.variable);
    } else {
      problems.push({ path: [key], message: `environment variable ${found.variable}: ${value.message}` });
    }
  }

  for (const { key } of serverSecretKeys) {
    const fileKey = `${key}_file`;
    const found = readVariable(fileKey);
    if (found !== undefined) {
      draft[fileKey] = found.text;
      variables.set(fileKey, found.variable);
    }
    // A variable for either spelling replaces both spellings in the file.
    const fromEnv = (name: string) => variables.has(name);
    if (fromEnv(key) && !fromEnv(fileKey)) delete draft[fileKey];
    if (fromEnv(fileKey) && !fromEnv(key)) delete draft[key];
  }
  return { problems, variables };
}
