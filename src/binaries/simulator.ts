// The simulator engine (`--simulator`): mup ships a mongod/mongos simulator (the `sim/` tree, compiled into
// dist/sim) and installs it into the binary cache as the `simulator` variant of the requested version, so a
// playground or a local cluster runs with no download and no network at all. Each installed program is a
// small shell wrapper that execs node on the compiled simulator with the emulated version stamped in; the
// wrapper is the simulator's only interface (src/ never imports sim/).
import { createHash } from 'node:crypto';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { arch as osArch } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import {
  findPackage,
  type InstalledPackage,
  installPackage,
  type PackageKey,
  packageName,
  packagesDir,
} from './package-store.js';
import type { Arch } from './release-list.js';

/** What displays and lists call a cluster or package running on the simulator. */
export const simulatorLabel = 'simulator (not MongoDB)';

/** The engine a cluster runs, as displays and JSON name it. */
export function engineLabel(variant: string): string {
  if (variant === 'simulator') return simulatorLabel;
  return variant === 'percona' ? 'Percona Server for MongoDB' : 'MongoDB';
}

/** The package target of simulator packages: they run wherever node runs. */
export const simulatorTarget = 'node';

/**
 * The release series the simulator emulates, each with the patch release a series request ("8.0", "8")
 * resolves to (the newest patch of that series the simulator was checked against).
 */
const emulatedSeries: Record<string, string> = {
  '3.6': '3.6.23',
  '4.0': '4.0.28',
  '4.2': '4.2.25',
  '4.4': '4.4.29',
  '5.0': '5.0.31',
  '6.0': '6.0.20',
  '7.0': '7.0.16',
  '8.0': '8.0.4',
};

/** Compiled simulator entry point, whether mup runs from source (tests) or from dist (the package). */
export function simulatorEntryPoint(): string {
  return import.meta.url.endsWith('.ts')
    ? resolve(import.meta.dirname, '..', '..', 'dist', 'sim', 'src', 'main.js')
    : resolve(import.meta.dirname, '..', '..', 'sim', 'src', 'main.js');
}

/** "8.0" → "8.0.4", "8" → "8.0.4", "7.0.14" → "7.0.14"; refuses what the simulator does not emulate. */
export function simulatorVersion(requested: string): string {
  const text = requested.trim();
  const supported = Object.keys(emulatedSeries).join(', ');
  const hint = `the simulator emulates MongoDB ${supported}`;
  const exact = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (exact) {
    if (emulatedSeries[`${exact[1]}.${exact[2]}`] === undefined)
      throw new UsageError(`--simulator: MongoDB ${text} is not emulated`, hint);
    return text;
  }
  const series = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (series) {
    const key = series[2] === undefined ? newestOfMajor(series[1] ?? '') : `${series[1]}.${series[2]}`;
    const version = key === undefined ? undefined : emulatedSeries[key];
    if (version !== undefined) return version;
    throw new UsageError(`--simulator: MongoDB ${text} is not emulated`, hint);
  }
  throw new UsageError(`--simulator: invalid version "${requested}"`, `${hint}; e.g. --version 8.0`);
}

function newestOfMajor(major: string): string | undefined {
  return Object.keys(emulatedSeries)
    .filter((series) => series.startsWith(`${major}.`))
    .sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]))[0];
}

function localArch(): Arch {
  const arch = osArch();
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  throw new UsageError(`unsupported CPU architecture "${arch}"`, 'mup runs on x86_64 and arm64');
}

function wrapper(program: 'mongod' | 'mongos', version: string, entry: string): string {
  // MONGOD_SIM_ARGV0 lets option errors name the binary as invoked, as mongod's own messages do.
  return [
    '#!/bin/sh',
    `MONGOD_SIM_VERSION='${version}' MONGOD_SIM_PROGRAM='${program}' MONGOD_SIM_ARGV0="$0" exec '${process.execPath}' '${entry}' "$@"`,
    '',
  ].join('\n');
}

export interface SimulatorInstall extends InstalledPackage {
  requested: string;
  alreadyInstalled: boolean;
}

/**
 * Installs (or finds) the simulator package for `requested` in the cache of `home`. Never touches the
 * network. A cached package whose wrappers point at another node or simulator build (mup reinstalled or
 * upgraded) is rewritten.
 */
export async function installSimulator(home: string, requested: string): Promise<SimulatorInstall> {
  const version = simulatorVersion(requested);
  const key: PackageKey = { variant: 'simulator', version, target: simulatorTarget, arch: localArch() };
  const entry = simulatorEntryPoint();
  try {
    await access(entry);
  } catch {
    throw new UsageError(
      `the simulator is missing from this mup installation (${entry})`,
      'reinstall mup, or build it with `npm run build`',
    );
  }
  const scripts = { mongod: wrapper('mongod', version, entry), mongos: wrapper('mongos', version, entry) };
  const current = async (): Promise<InstalledPackage | undefined> => {
    const found = await findPackage(home, key);
    if (!found) return undefined;
    const text = await readFile(join(found.binDir, 'mongod'), 'utf8').catch(() => '');
    return text === scripts.mongod ? found : undefined;
  };
  const { installed, built } = await installPackage(home, key, {
    current,
    build: async (tree) => {
      await mkdir(join(tree, 'bin'), { recursive: true });
      for (const program of ['mongod', 'mongos'] as const) {
        await writeFile(join(tree, 'bin', program), scripts[program]);
        await chmod(join(tree, 'bin', program), 0o755);
      }
      const sha256 = createHash('sha256').update(scripts.mongod).update(scripts.mongos).digest('hex');
      return { sha256, url: `file://${entry}`, archiveName: 'simulator' };
    },
  });
  return { ...installed, requested, alreadyInstalled: !built };
}

/** The bin directory `installSimulator` uses for `requested` (for plans that install nothing). */
export function simulatorBinDir(home: string, requested: string): string {
  const version = simulatorVersion(requested);
  return join(
    packagesDir(home),
    packageName({ variant: 'simulator', version, target: simulatorTarget, arch: localArch() }),
    'bin',
  );
}
