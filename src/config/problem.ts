/** A problem (or warning) found in a config file, located by the path of the key it concerns. */
export interface ConfigProblem {
  /** Like `routes[2].from`; `''` for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `['routes', 2, 'from']` → `routes[2].from`; keys that are not plain words are quoted: `headers["a b"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** `routes[2].from: must be …`, or the bare message for a problem with the whole file. */
export function formatProblem(problem: ConfigProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}
