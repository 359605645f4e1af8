// Which MongoDB binaries a cluster runs: an existing directory (--binary-path, checked) or the cache,
// installing from the release list or a mirror when missing.
import { join } from 'node:path';
import type { BinaryEventListener } from '../binaries/events.js';

export interface BinarySelection {
  /** "8.0" or an exact "7.0.14". */
  version: string;
  variant: 'mongodb' | 'percona';
  /** A directory holding mongod and mongos, used as is. */
  binaryPath?: string | undefined;
  mirror?: string | undefined;
  onBinaryEvent?: BinaryEventListener | undefined;
}

export interface SelectedBinaries {
  version: string;
  variant: 'mongodb' | 'percona';
  /** Directory holding bin/mongod and bin/mongos. */
  binaryDir: string;
}

export async function resolveBinaries(
  selection: BinarySelection,
  home: string,
  options: { install: boolean },
): Promise<SelectedBinaries> {
  const binaries = await import('../binaries/index.js');
  if (selection.binaryPath) {
    const checked = await binaries.checkBinaryPath(selection.binaryPath, selection.version);
    return { version: checked.version, variant: selection.variant, binaryDir: checked.dir };
  }
  const context = {
    home,
    variant: selection.variant,
    mirror: selection.mirror ?? process.env.MUP_MIRROR,
    onEvent: selection.onBinaryEvent,
    timeoutMs: binaries.timeoutFromEnv(),
  };
  if (!options.install) {
    const release = await binaries.resolveRelease(context, selection.version);
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
  const installed = await binaries.installRelease(context, selection.version);
  return { version: installed.version, variant: selection.variant, binaryDir: installed.binDir };
}

/** The version the mongod in `dir` reports (`db version vX.Y.Z`); undefined when it does not answer. */
export async function detectBinaryVersion(dir: string): Promise<string | undefined> {
  const [{ LocalExecutor }, { parseVersionOutput }] = await Promise.all([
    import('../hosts/local.js'),
    import('../binaries/binary-path.js'),
  ]);
  try {
    const result = await new LocalExecutor().run(join(dir, 'mongod'), ['--version'], { timeoutMs: 10_000 });
    return parseVersionOutput('mongod', result.stdout);
  } catch {
    return undefined;
  }
}
