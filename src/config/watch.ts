/**
 * Tells the caller when the config file may have changed. It watches the file's directory, not the file:
 * editors save by writing a new file and renaming it over the old one, and Kubernetes updates a mounted
 * ConfigMap by swapping the `..data` symlink, so a watch on the file itself would go quiet after the
 * first change. Bursts of events (write, rename, chmod) are debounced into one call.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

const DEBOUNCE_MS = 100;
/** The symlink Kubernetes swaps when a ConfigMap or Secret volume is updated. */
const KUBERNETES_DATA_LINK = '..data';

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(path: string, onChange: () => void): ConfigWatcher {
  const fileName = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const close = () => {
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  };

  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      // Some platforms do not report the name; then any change in the directory counts.
      if (changed === null || changed === fileName || changed === KUBERNETES_DATA_LINK) schedule();
    });
    // The directory went away (or the watch broke): stop quietly; the server keeps its current config.
    watcher.on('error', close);
  } catch {
    // The directory does not exist: there is nothing to watch.
  }
  return { close };
}
