/**
 * Tells the caller when the config file may have changed, by polling its metadata (`fs.watchFile`) rather
 * than subscribing to directory events. Editors save by renaming a new file over the old one and
 * Kubernetes updates a mounted ConfigMap by swapping a symlink, so a watch on the file itself goes quiet
 * after the first change; and a watch on the directory wakes the process for every write to any file in
 * it — measured: a log file beside the config cost the proxy a callback per log write under load. A stat
 * every half second follows renames and symlink swaps (the path is resolved each time) and costs nothing
 * on the request path. Bursts of changes (write, rename, chmod) are debounced into one call.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';

const POLL_INTERVAL_MS = 500;
const DEBOUNCE_MS = 100;

export interface ConfigWatcher {
  close(): void;
}

function differs(current: Stats, previous: Stats): boolean {
  return (
    current.mtimeMs !== previous.mtimeMs ||
    current.ctimeMs !== previous.ctimeMs ||
    current.ino !== previous.ino ||
    current.size !== previous.size
  );
}

export function watchConfigFile(path: string, onChange: () => void): ConfigWatcher {
  let timer: NodeJS.Timeout | undefined;
  const listener = (current: Stats, previous: Stats) => {
    if (!differs(current, previous)) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  };
  // A file that does not exist (yet) is polled too: when it appears, that is a change.
  watchFile(path, { persistent: false, interval: POLL_INTERVAL_MS }, listener);
  return {
    close: () => {
      clearTimeout(timer);
      unwatchFile(path, listener);
    },
  };
}
