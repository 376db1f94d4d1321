/**
 * Tells the caller when the config file may have changed, by polling its metadata rather than subscribing
 * to directory events. Editors save by renaming a new file over the old one and Kubernetes updates a
 * mounted ConfigMap by swapping a symlink, so a watch on the file itself goes quiet after the first
 * change; and a watch on the directory wakes the process for every write to any file in it — measured: a
 * log file beside the config cost the proxy a callback per log write under load (bench/README.md). A stat
 * every half second follows renames and symlink swaps (the path is resolved each time) and costs nothing
 * on the request path. The first reading is taken before this returns, so a change made right after is
 * not mistaken for the starting state. Bursts of changes are debounced into one call.
 */
import { stat, statSync, type Stats } from 'node:fs';

const POLL_INTERVAL_MS = 500;
const DEBOUNCE_MS = 100;

export interface ConfigWatcher {
  close(): void;
}

/** What identifies one version of the file; `missing` while it does not exist. */
function fingerprint(stats: Stats | undefined): string {
  if (stats === undefined) return 'missing';
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

function readSync(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function watchConfigFile(path: string, onChange: () => void): ConfigWatcher {
  let last = fingerprint(readSync(path));
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;
  const poll = setInterval(() => {
    stat(path, (error, stats) => {
      const current = fingerprint(error === null ? stats : undefined);
      // A stat that was in flight when the watcher closed must not call back afterwards.
      if (closed || current === last) return;
      last = current;
      clearTimeout(debounce);
      debounce = setTimeout(onChange, DEBOUNCE_MS);
    });
  }, POLL_INTERVAL_MS);
  // The watcher never keeps the process alive by itself.
  poll.unref();
  return {
    close: () => {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
    },
  };
}
