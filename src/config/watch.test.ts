import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchConfigFile, type ConfigWatcher } from './watch.js';

/** Longer than two of the watcher's polls, so a change it should not report would have been reported. */
const QUIET_PERIOD_MS = 1200;

const watchers: ConfigWatcher[] = [];
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.close();
});

function setUp() {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-watch-'));
  const path = join(directory, 'gatehouse.yaml');
  writeFileSync(path, 'insecure_server: true\n');
  const onChange = vi.fn();
  watchers.push(watchConfigFile(path, onChange));
  return { directory, path, onChange };
}

describe('watchConfigFile', () => {
  it('calls back once for a burst of writes', async () => {
    const { path, onChange } = setUp();
    writeFileSync(path, 'insecure_server: false\n');
    writeFileSync(path, 'insecure_server: true\n');
    await vi.waitFor(() => expect(onChange).toHaveBeenCalled(), { timeout: 2000 });
    await sleep(250);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('notices a file replaced by rename, as editors and ConfigMaps do, and keeps watching', async () => {
    const { directory, path, onChange } = setUp();
    writeFileSync(join(directory, 'gatehouse.yaml.tmp'), 'log_level: debug\n');
    renameSync(join(directory, 'gatehouse.yaml.tmp'), path);
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 2000 });
    writeFileSync(path, 'log_level: info\n');
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(2), { timeout: 2000 });
  });

  it('notices a Kubernetes ConfigMap update, which swaps a symlink to a new directory', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gatehouse-watch-'));
    for (const version of ['v1', 'v2']) {
      mkdirSync(join(directory, version));
      writeFileSync(join(directory, version, 'gatehouse.yaml'), `# ${version}\n`);
    }
    symlinkSync('v1', join(directory, '..data'));
    symlinkSync(join('..data', 'gatehouse.yaml'), join(directory, 'gatehouse.yaml'));
    const onChange = vi.fn();
    watchers.push(watchConfigFile(join(directory, 'gatehouse.yaml'), onChange));
    symlinkSync('v2', join(directory, '..data_tmp'));
    renameSync(join(directory, '..data_tmp'), join(directory, '..data'));
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 2000 });
  });

  it('ignores other files in the directory', async () => {
    const { directory, onChange } = setUp();
    writeFileSync(join(directory, 'other.yaml'), 'x: 1\n');
    await sleep(QUIET_PERIOD_MS);
    expect(onChange).not.toHaveBeenCalled();
  });

  it('stops calling back after close', async () => {
    const { path, onChange } = setUp();
    watchers.pop()?.close();
    writeFileSync(path, 'log_level: warn\n');
    await sleep(QUIET_PERIOD_MS);
    expect(onChange).not.toHaveBeenCalled();
  });

  it('does not throw when the directory does not exist or vanishes', async () => {
    const missing = join(tmpdir(), 'gatehouse-watch-missing', 'gatehouse.yaml');
    expect(() => watchConfigFile(missing, () => undefined).close()).not.toThrow();
    const { directory } = setUp();
    rmSync(directory, { recursive: true, force: true });
    await sleep(200);
  });
});
