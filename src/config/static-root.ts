/**
 * The checks on a route's `to: file:///dir` that go beyond its syntax: it is the route's only target
 * (files cannot take turns with upstreams), and the directory exists when the config loads — a typo in
 * the path is a problem reported by path, not a route that answers 404 to everything. The directory is
 * looked up with `stat` (a read, like the `*_file` keys); it may still vanish or change later, and the
 * file server copes with that per request.
 */
import { statSync } from 'node:fs';
import { describeReadError } from './read-error.js';
import { isStaticRoot, type RouteTarget } from './urls.js';

export interface TargetProblem {
  /** Index in the route's `to` list. */
  readonly index: number;
  readonly message: string;
}

export function checkStaticTargets(targets: readonly RouteTarget[]): TargetProblem[] {
  const problems: TargetProblem[] = [];
  targets.forEach((target, index) => {
    if (!isStaticRoot(target)) return;
    if (targets.length > 1) {
      problems.push({
        index,
        message: 'a file:/// directory must be the route’s only `to` entry; make a route for it alone',
      });
    }
    const reason = whyNotDirectory(target.root);
    if (reason !== undefined) problems.push({ index, message: `cannot serve ${target.root}: ${reason}` });
  });
  return problems;
}

function whyNotDirectory(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? undefined : 'it is not a directory';
  } catch (error) {
    return describeReadError(error);
  }
}
