/**
 * The configuration reference, rendered from the schema itself (each key's description, type and
 * default live beside its validation), so docs/configuration.md cannot drift from what is accepted.
 */
import { z } from 'zod';
import { configSchema, corsSchema, dynamicUpstreamSchema, routeSchema } from './schema.js';

interface KeyDoc {
  readonly key: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly description: string;
}

type AnySchema = z.core.$ZodType;

function metaOf(schema: AnySchema): { type?: string; description?: string } {
  return (z.globalRegistry.get(schema) ?? {}) as { type?: string; description?: string };
}

/** A person's name for a schema's type; pipes and transforms carry theirs in `.meta({ type })`. */
function describeType(schema: AnySchema): string {
  const declared = metaOf(schema).type;
  if (declared !== undefined) return declared;
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'default':
      return describeType((def as z.core.$ZodOptionalDef).innerType);
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'enum':
      return `one of ${Object.values((def as z.core.$ZodEnumDef).entries).join(', ')}`;
    case 'array':
      return `list of ${describeType((def as z.core.$ZodArrayDef).element)}s`;
    case 'record':
      return 'map of header name to value';
    case 'object':
      return 'route';
    default:
      throw new TypeError(`config key of type ${def.type} needs .meta({ type }) for the reference`);
  }
}

function describeDefault(schema: AnySchema): string {
  const def = schema._zod.def;
  if (def.type !== 'default') return '';
  const value: unknown = (def as z.core.$ZodDefaultDef).defaultValue;
  if (metaOf(schema).type === 'duration' && typeof value === 'number') return `${value / 1000}s`;
  return JSON.stringify(value);
}

function documentKeys(shape: Readonly<Record<string, AnySchema>>): KeyDoc[] {
  return Object.entries(shape).map(([key, schema]) => {
    const description = metaOf(schema).description;
    if (description === undefined) throw new TypeError(`config key ${key} has no description`);
    return { key, type: describeType(schema), defaultValue: describeDefault(schema), description };
  });
}

function table(keys: readonly KeyDoc[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| key | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...keys.map(
      (doc) =>
        `| \`${doc.key}\` | ${escape(doc.type)} | ${doc.defaultValue === '' ? '' : `\`${escape(doc.defaultValue)}\``} | ${escape(doc.description)} |`,
    ),
  ].join('\n');
}

export function renderConfigReference(): string {
  return `# Configuration reference

<!-- Generated from src/config/schema.ts by \`gatehouse config-reference\`; do not edit by hand. -->

A YAML file (\`gatehouse --config FILE\`). Every top-level key can be overridden by an environment variable
of the same name in upper case, which wins over the file. \`certificate\`, \`certificate_key\`,
\`idp_client_secret\`, \`shared_secret\`, \`cookie_secret\`, \`databroker_storage_connection_string\` and a
route's \`tls_custom_ca\` can also be read from a file named by \`<key>_file\` (or \`<KEY>_FILE\` in the
environment); a secret is read from its file without the newline it ends in. Durations are written like
\`30s\`, \`1m30s\`, \`500ms\`; a bare number is seconds.

## Top-level keys

${table(documentKeys(configSchema.shape))}

## Route keys (\`routes[]\`)

${table(documentKeys(routeSchema.shape))}

## CORS keys (\`routes[].cors\`)

${table(documentKeys(corsSchema.shape))}

## Dynamic upstream keys (\`routes[].dynamic_upstream\`)

${table(documentKeys(dynamicUpstreamSchema.shape))}
`;
}
