// Which MongoDB binaries a cluster runs: an existing directory (--binary-path, checked) or the cache,
// installing from the release list or a mirror when missing.
import { dirname, join } from 'node:path';
import type { BinaryEventListener } from '../binaries/events.js';
import { UsageError } from '../errors.js';

export interface BinarySelection {
  /** "8.0" or an exact "7.0.14"; left out with `binaryPath`, it is whatever those binaries report. */
  version: string | undefined;
  /** `simulator`: mup's own mongod/mongos simulator, installed into the cache without any download. */
  variant: 'mongodb' | 'percona' | 'simulator';
  /** A directory holding mongod and mongos, used as is. */
  binaryPath?: string | undefined;
  mirror?: string | undefined;
  /** A release-list target (e.g. ubuntu2204) instead of the one detected for this host. */
  target?: string | undefined;
  onBinaryEvent?: BinaryEventListener | undefined;
}

export interface SelectedBinaries {
  version: string;
  variant: 'mongodb' | 'percona' | 'simulator';
  /** Directory holding bin/mongod and bin/mongos. */
  binaryDir: string;
}

export async function resolveBinaries(
  selection: BinarySelection,
  home: string,
  options: { install: boolean },
): Promise<SelectedBinaries> {
  const binaries = await import('../binaries/index.js');
  if (selection.variant === 'simulator') return simulatorBinaries(selection, home, options);
  if (selection.binaryPath) {
    const checked = await binaries.checkBinaryPath(selection.binaryPath, selection.version);
    return { version: checked.version, variant: selection.variant, binaryDir: checked.dir };
  }
  const version = selection.version;
  if (version === undefined)
    throw new UsageError('a MongoDB version is required', 'pass --version, e.g. --version 8.0');
  const variant = selection.variant;
  const context = {
    home,
    variant,
    mirror: selection.mirror ?? process.env.MUP_MIRROR,
    onEvent: selection.onBinaryEvent,
    timeoutMs: binaries.timeoutFromEnv(),
  };
  if (!options.install) {
    const release = await binaries.resolveRelease(context, version, { target: selection.target });
    const name = binaries.packageName({
      variant: release.variant,
      version: release.version,
      target: release.target,
      arch: release.arch,
    });
    return {
      version: release.version,
      variant: selection.variant,
      binaryDir: join(binaries.packagesDir(home), name, 'bin'),
    };
  }
  const installed = await binaries.installRelease(context, version, { target: selection.target });
  return { version: installed.version, variant: selection.variant, binaryDir: installed.binDir };
}

/** `--simulator`: the cache's simulator package of the version; nothing is downloaded, no mirror is read. */
async function simulatorBinaries(
  selection: BinarySelection,
  home: string,
  options: { install: boolean },
): Promise<SelectedBinaries> {
  const binaries = await import('../binaries/index.js');
  if (selection.binaryPath)
    throw new UsageError('--simulator and --binary-path exclude each other', 'pass only one of them');
  if (selection.target)
    throw new UsageError(
      '--simulator and --target exclude each other',
      'the simulator runs wherever node runs',
    );
  const requested = selection.version ?? '8.0';
  if (!options.install)
    return {
      version: binaries.simulatorVersion(requested),
      variant: 'simulator',
      binaryDir: binaries.simulatorBinDir(home, requested),
    };
  const installed = await binaries.installSimulator(home, requested);
  return { version: installed.version, variant: 'simulator', binaryDir: installed.binDir };
}

/** For `mup mongo remove`: which clusters of this home run binaries from a package dir (`<dir>/bin`). */
export async function clustersUsingPackages(home: string): Promise<(packageDir: string) => string[]> {
  const { ClusterStore } = await import('../meta/store.js');
  const store = new ClusterStore(home);
  const users = new Map<string, string[]>();
  for (const name of await store.list()) {
    // An unreadable meta may still run from the cache: count it as a user by its name.
    const dir = await store.read(name).then(
      (meta) => dirname(meta.binaryDir),
      () => undefined,
    );
    const key = dir ?? '*';
    users.set(key, [...(users.get(key) ?? []), name]);
  }
  return (packageDir) => [...(users.get(packageDir) ?? []), ...(users.get('*') ?? [])];
}
