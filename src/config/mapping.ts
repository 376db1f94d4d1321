/**
 * The config as it stands between YAML and the schema: plain mappings whose values are not yet known to
 * have the right types. The steps before validation read it through these guards.
 */
export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The routes that are mappings, with their index; anything else is left for the schema to report. */
export function routeMappings(routes: unknown): [index: number, route: Mapping][] {
  if (!Array.isArray(routes)) return [];
  return routes.flatMap((route: unknown, index) =>
    isMapping(route) ? [[index, route] as [number, Mapping]] : [],
  );
}
