/**
 * Parses a config file into a deep-frozen, typed config, or into every problem found, each with the path
 * of its key. The steps, in order:
 *
 * 1. YAML → a mapping (every syntax error, with line and column);
 * 2. environment overrides (`env-overrides.ts`);
 * 3. Pomerium's legacy `policy:` list merged into `routes` (`legacy-policy.ts`);
 * 4. cross-key checks of the top level (`validate-server.ts`);
 * 5. `*_file` keys read, certificates and keys made PEM (`secrets.ts`);
 * 6. the schema, with keys it does not know classified (`pomerium-keys.ts`);
 * 7. cross-key checks of each route (`validate-routes.ts`);
 * 8. cross-key checks of sign-in and of CORS on the parsed config (`validate-identity.ts`,
 *    `validate-cors.ts`).
 *
 * Pure apart from `source.readFile`. This is the one importer of `yaml`.
 */
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { deepFreeze } from './freeze.js';
import { applyEnvOverrides } from './env-overrides.js';
import { mergeLegacyPolicy } from './legacy-policy.js';
import { isMapping, type Mapping } from './mapping.js';
import { classifyUnknownKey } from './pomerium-keys.js';
import { formatPath, type ConfigProblem, type PathSegment } from './problem.js';
import { configSchema, type GatehouseConfig } from './schema.js';
import { describeIssue, problemsOfIssue, type ProblemAt } from './schema-issues.js';
import { resolveSecrets, type ReadFile } from './secrets.js';
import type { Parsed } from './urls.js';
import { validateCors } from './validate-cors.js';
import { validateIdentity } from './validate-identity.js';
import { validateRoutes } from './validate-routes.js';
import { validateServer } from './validate-server.js';

export { formatProblem, type ConfigProblem } from './problem.js';

export type ConfigResult =
  | { ok: true; config: Readonly<GatehouseConfig>; warnings: readonly ConfigProblem[] }
  | { ok: false; problems: readonly ConfigProblem[]; warnings: readonly ConfigProblem[] };

export interface ConfigSource {
  /** The YAML text. */
  text: string;
  /** Names the file in messages. */
  fileName: string;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Reads the file a `*_file` key names, given the name exactly as written; the reader resolves relative
   * names (`loadConfigFile` resolves them against the config file's directory). Throws on failure.
   */
  readFile: ReadFile;
}

type Document = { ok: true; value: unknown; warnings: ProblemAt[] } | { ok: false; problems: ProblemAt[] };

function describeYamlError(error: YAMLError, lineCounter: LineCounter): string {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  return `line ${line}, column ${col}: ${error.message}`;
}

function readYaml(text: string): Document {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const describe = (error: YAMLError): ProblemAt => ({
    path: [],
    message: describeYamlError(error, lineCounter),
  });
  if (document.errors.length > 0) return { ok: false, problems: document.errors.map(describe) };
  try {
    return { ok: true, value: document.toJS(), warnings: document.warnings.map(describe) };
  } catch (error) {
    // An alias to an anchor that does not exist, or aliases expanding past the limit.
    return {
      ok: false,
      problems: [{ path: [], message: error instanceof Error ? error.message : String(error) }],
    };
  }
}

function parseYamlValue(text: string): Parsed<unknown> {
  const document = readYaml(text);
  if (document.ok) return { ok: true, value: document.value };
  return { ok: false, message: document.problems.map((problem) => problem.message).join('; ') };
}

type DraftDocument =
  { ok: true; draft: Mapping; warnings: ProblemAt[] } | { ok: false; problems: ProblemAt[] };

function readDocument(source: ConfigSource): DraftDocument {
  const document = readYaml(source.text);
  if (!document.ok) {
    const problems = document.problems.map((problem) => ({
      ...problem,
      message: `${source.fileName} ${problem.message}`,
    }));
    return { ok: false, problems };
  }
  // An empty file is an empty mapping: the environment may give every key.
  const value = document.value ?? {};
  if (isMapping(value)) return { ok: true, draft: value, warnings: document.warnings };
  const found = Array.isArray(value) ? 'a list' : `a single ${typeof value}`;
  return {
    ok: false,
    problems: [
      {
        path: [],
        message: `${source.fileName} must be a mapping of keys such as address: and routes:, not ${found}`,
      },
    ],
  };
}

function removeKey(draft: Mapping, path: readonly PropertyKey[], key: string): void {
  const parent = path.reduce<unknown>(
    (node, segment) =>
      isMapping(node) || Array.isArray(node) ? (node as Mapping)[String(segment)] : undefined,
    draft,
  );
  if (isMapping(parent)) delete parent[key];
}

interface SchemaResult {
  readonly config?: GatehouseConfig;
  readonly problems: readonly ProblemAt[];
  readonly warnings: readonly ProblemAt[];
}

/**
 * Validates against the schema. Keys the schema does not know are classified: Pomerium keys Gatehouse
 * does not implement, or not yet, are problems; others are warnings, and the file is parsed again
 * without them so it still loads.
 */
function validateSchema(draft: Mapping): SchemaResult {
  const first = configSchema.safeParse(draft, { error: describeIssue });
  if (first.success) return { config: first.data, problems: [], warnings: [] };
  const problems: ProblemAt[] = [];
  const warnings: ProblemAt[] = [];
  for (const issue of first.error.issues) {
    if (issue.code !== 'unrecognized_keys') {
      problems.push(...problemsOfIssue(issue));
      continue;
    }
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const scope =
      path.length === 0 ? 'server' : path.length === 2 && path[0] === 'routes' ? 'route' : undefined;
    for (const key of issue.keys) {
      const verdict = scope === undefined ? undefined : classifyUnknownKey(key, scope);
      const message = verdict?.message ?? 'unknown key, ignored';
      (verdict?.severity === 'error' ? problems : warnings).push({ path: [...path, key], message });
      removeKey(draft, issue.path, key);
    }
  }
  // Parsed again even beside refused keys, so the sign-in checks still run and every problem is reported
  // at once; a config with problems is never returned to the caller.
  const second = configSchema.safeParse(draft, { error: describeIssue });
  if (second.success) return { config: second.data, problems, warnings };
  if (problems.length > 0) return { problems, warnings };
  return { problems: second.error.issues.flatMap(problemsOfIssue), warnings };
}

/**
 * Problems in the order of the file: by top-level key as written (problems with the whole file and with
 * keys it does not contain come first), then route by route; the order within each stays as found.
 */
function inFileOrder(problems: readonly ProblemAt[], keyOrder: readonly string[]): ProblemAt[] {
  const rank = ({ path: [first, index] }: ProblemAt): [number, number] => [
    typeof first === 'string' ? keyOrder.indexOf(first) : -1,
    first === 'routes' && typeof index === 'number' ? index : -1,
  ];
  return [...problems].sort((a, b) => {
    const [keyA, routeA] = rank(a);
    const [keyB, routeB] = rank(b);
    return keyA - keyB || routeA - routeB;
  });
}

/**
 * Turns an internal path into the one the user wrote: merged `policy` entries get their own name back,
 * a single `to` URL loses the list index the schema gave it, and a value from the environment says so.
 */
function locator(draft: Mapping, variables: ReadonlyMap<string, string>, policyCount: number) {
  const routes: unknown[] = Array.isArray(draft.routes) ? draft.routes : [];
  return ({ path, message }: ProblemAt): ConfigProblem => {
    const [first, index, key, item, ...rest] = path;
    let segments: readonly PathSegment[] = path;
    let variable = typeof first === 'string' ? variables.get(first) : undefined;
    if (first === 'routes' && typeof index === 'number') {
      const route = routes[index];
      const isSingleTo = key === 'to' && item === 0 && isMapping(route) && typeof route.to === 'string';
      const tail = isSingleTo ? ['to', ...rest] : path.slice(2);
      const isPolicy = index < policyCount;
      segments = isPolicy ? ['policy', index, ...tail] : ['routes', index - policyCount, ...tail];
      if (isPolicy) variable = undefined;
    }
    return {
      path: formatPath(segments),
      message: variable === undefined ? message : `${message} (set by ${variable})`,
    };
  };
}

export function parseConfig(source: ConfigSource): ConfigResult {
  const document = readDocument(source);
  if (!document.ok) return { ok: false, problems: document.problems.map(toConfigProblem), warnings: [] };
  const { draft } = document;
  // Legacy `policy` entries are merged into `routes`, so they rank where either appears first.
  const keyOrder = Object.keys(draft).map((key) => (key === 'policy' ? 'routes' : key));
  const env = applyEnvOverrides(draft, source.env, parseYamlValue);
  const legacy = mergeLegacyPolicy(draft);
  const problems = [...env.problems, ...legacy.problems, ...validateServer(draft)];
  problems.push(...resolveSecrets(draft, source.readFile));
  const schema = validateSchema(draft);
  problems.push(...schema.problems, ...validateRoutes(draft.routes));
  const cors = validateCors(schema.config?.routes ?? []);
  if (schema.config !== undefined) problems.push(...validateIdentity(schema.config), ...cors.problems);

  const locate = locator(draft, env.variables, legacy.count);
  const warnings = inFileOrder(
    [...document.warnings, ...legacy.warnings, ...schema.warnings, ...cors.warnings],
    keyOrder,
  ).map(locate);
  if (problems.length > 0 || schema.config === undefined) {
    return { ok: false, problems: inFileOrder(problems, keyOrder).map(locate), warnings };
  }
  return { ok: true, config: deepFreeze(schema.config), warnings };
}

function toConfigProblem({ path, message }: ProblemAt): ConfigProblem {
  return { path: formatPath(path), message };
}
