/**
 * Reads a config file from disk and parses it. `*_file` keys name files relative to the config file's
 * directory, so a config and its certificates can move together.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseConfig, type ConfigResult } from './parse.js';
import { describeReadError } from './read-error.js';

export function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [{ path: '', message: `cannot read ${path}: ${describeReadError(error)}` }],
      warnings: [],
    };
  }
  const directory = dirname(resolve(path));
  return parseConfig({
    text,
    fileName: path,
    env,
    readFile: (name) => readFileSync(resolve(directory, name), 'utf8'),
  });
}
