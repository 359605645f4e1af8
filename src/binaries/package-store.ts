// The shared binary cache: $MUP_HOME/storage/packages/<variant>-<version>-<target>-<arch>/.
// A package directory appears in one rename, already holding bin/ and its markers: `.sha256` (sha256sum
// format: the verified archive's hash and name) and `.mup-package.json` (what was installed, from where).
// A directory without both markers is not an installed package. Work in progress lives in packages/.tmp/,
// and a per-package lock (proper-lockfile) serializes processes installing or removing the same package.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { MupError } from '../errors.js';
import type { Arch } from './release-list.js';
import type { Variant } from './source.js';

/** A cached package's variant: a vendor's release, or mup's own simulator (`--simulator`). */
export type PackageVariant = Variant | 'simulator';

export interface PackageKey {
  variant: PackageVariant;
  version: string;
  target: string;
  arch: Arch;
}

export interface InstalledPackage extends PackageKey {
  /** Directory name: <variant>-<version>-<target>-<arch>. */
  name: string;
  dir: string;
  binDir: string;
  /** sha256 of the archive the package came from. */
  sha256: string;
  /** Where the archive was downloaded from. */
  url: string;
  installedAt: string;
}

export const shaMarker = '.sha256';
export const infoMarker = '.mup-package.json';

export function packagesDir(home: string): string {
  return join(home, 'storage', 'packages');
}

export function packageName(key: PackageKey): string {
  return `${key.variant}-${key.version}-${key.target}-${key.arch}`;
}

export function stagingRoot(home: string): string {
  return join(packagesDir(home), '.tmp');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads an installed package; undefined when `dir` is not a complete package. */
export async function readPackage(dir: string): Promise<InstalledPackage | undefined> {
  try {
    const [shaText, infoText] = await Promise.all([
      readFile(join(dir, shaMarker), 'utf8'),
      readFile(join(dir, infoMarker), 'utf8'),
    ]);
    if (!(await exists(join(dir, 'bin', 'mongod')))) return undefined;
    const info = JSON.parse(infoText) as Omit<InstalledPackage, 'dir' | 'binDir' | 'sha256'>;
    const sha256 = shaText.split(/\s+/)[0] ?? '';
    return { ...info, dir, binDir: join(dir, 'bin'), sha256 };
  } catch {
    return undefined;
  }
}

export async function findPackage(home: string, key: PackageKey): Promise<InstalledPackage | undefined> {
  return readPackage(join(packagesDir(home), packageName(key)));
}

export async function listPackages(home: string): Promise<InstalledPackage[]> {
  let names: string[];
  try {
    names = await readdir(packagesDir(home));
  } catch {
    return [];
  }
  const found = await Promise.all(
    names.filter((name) => !name.startsWith('.')).map((name) => readPackage(join(packagesDir(home), name))),
  );
  return found
    .filter((p): p is InstalledPackage => p !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** Writes both markers into a staged package directory (before it is renamed into place). */
export async function writeMarkers(
  stagedDir: string,
  info: Omit<InstalledPackage, 'dir' | 'binDir'>,
  archiveName: string,
): Promise<void> {
  await writeFileAtomic(join(stagedDir, shaMarker), `${info.sha256}  ${archiveName}\n`);
  const { sha256: _sha, ...rest } = info;
  await writeFileAtomic(join(stagedDir, infoMarker), `${JSON.stringify(rest, null, 2)}\n`);
}

/** Moves a staged directory into place as package `name` (one rename: it is never seen half-written). */
export async function publishPackage(home: string, stagedDir: string, name: string): Promise<string> {
  const target = join(packagesDir(home), name);
  // A leftover without markers (never a complete package) may block the rename; move it aside first.
  if (await exists(target)) await discard(home, target);
  await rename(stagedDir, target);
  return target;
}

/** Removes a package: renamed out of sight first, so readers never see it half-deleted. */
export async function discard(home: string, dir: string): Promise<void> {
  const trash = join(
    stagingRoot(home),
    `trash-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  );
  await mkdir(stagingRoot(home), { recursive: true });
  await rename(dir, trash);
  await rm(trash, { recursive: true, force: true });
}

/** Deletes staging leftovers of `name` (from a killed process); call only while holding its lock. */
export async function cleanStaging(home: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(stagingRoot(home));
  } catch {
    return;
  }
  await Promise.all(
    entries
      .filter((entry) => entry.startsWith(`${name}.`) || entry.startsWith('trash-'))
      .map((entry) => rm(join(stagingRoot(home), entry), { recursive: true, force: true })),
  );
}

export interface LockOptions {
  /** Called once when another process holds the lock and this one starts waiting. */
  onWait?: () => void;
  /** Upper bound on the wait; the other process may be downloading a large archive. */
  maxWaitMs?: number;
}

/**
 * Runs `fn` holding the package's lock. A lock whose holder died is considered stale after 10 s without
 * its heartbeat (proper-lockfile refreshes the lock's mtime while held) and is taken over.
 */
export async function withPackageLock<T>(
  home: string,
  name: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const locks = join(packagesDir(home), '.locks');
  await mkdir(locks, { recursive: true });
  const lockOptions = {
    realpath: false,
    lockfilePath: join(locks, `${name}.lock`),
    stale: 10_000,
    update: 2_000,
    onCompromised: (error: Error) => {
      compromised = error;
    },
  };
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(join(packagesDir(home), name), { ...lockOptions, retries: 0 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    options.onWait?.();
    const maxWaitMs = options.maxWaitMs ?? 60 * 60_000;
    const interval = 250;
    try {
      release = await lockfile.lock(join(packagesDir(home), name), {
        ...lockOptions,
        retries: {
          retries: Math.ceil(maxWaitMs / interval),
          factor: 1,
          minTimeout: interval,
          maxTimeout: interval,
        },
      });
    } catch (waitError) {
      if ((waitError as NodeJS.ErrnoException).code !== 'ELOCKED') throw waitError;
      throw new MupError(
        `another mup process kept ${name} locked for over ${Math.round(maxWaitMs / 1000)} s`,
        {
          hint: `if no mup process is running, delete ${lockOptions.lockfilePath}`,
        },
      );
    }
  }
  try {
    const result = await fn();
    if (compromised) throw new MupError(`lost the lock on ${name}: ${compromised.message}`);
    return result;
  } finally {
    await release().catch(() => {});
  }
}

/** What building a package's tree yields for its markers: the archive (or content) hash, its origin and name. */
export interface BuiltPackage {
  sha256: string;
  url: string;
  archiveName: string;
}

export interface PackageInstall {
  /** The package as the cache holds it once this returns. */
  installed: InstalledPackage;
  /** False when it was found in place (before or after waiting for the lock) and nothing was built. */
  built: boolean;
}

/**
 * Installs package `key` unless `current()` finds it: under the package's lock (`current` is asked again
 * once the lock is held, another process may have installed it meanwhile), `build` fills a fresh staging
 * tree, the markers go in, and one rename publishes it. The staging directory is removed whatever happens;
 * one left by a killed process is removed by the next install of the package.
 */
export async function installPackage(
  home: string,
  key: PackageKey,
  steps: {
    current: () => Promise<InstalledPackage | undefined>;
    build: (tree: string) => Promise<BuiltPackage>;
    onWait?: () => void;
  },
): Promise<PackageInstall> {
  const found = await steps.current();
  if (found) return { installed: found, built: false };
  const name = packageName(key);
  return withPackageLock(
    home,
    name,
    async () => {
      const installed = await steps.current();
      if (installed) return { installed, built: false };
      await cleanStaging(home, name);
      const staging = join(stagingRoot(home), `${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
      await mkdir(staging, { recursive: true });
      try {
        const tree = join(staging, 'package');
        const built = await steps.build(tree);
        await writeMarkers(
          tree,
          { ...key, name, sha256: built.sha256, url: built.url, installedAt: new Date().toISOString() },
          built.archiveName,
        );
        const dir = await publishPackage(home, tree, name);
        const published = await readPackage(dir);
        if (!published) throw new Error(`installed package ${name} cannot be read back from ${dir}`);
        return { installed: published, built: true };
      } finally {
        await rm(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      }
    },
    steps.onWait === undefined ? {} : { onWait: steps.onWait },
  );
}
