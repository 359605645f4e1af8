// Fake MongoDB (and Percona Server for MongoDB) release archives in the real names and layout, and release
// lists in the shape of MongoDB's full.json, so mup's download path can be exercised against a local server.
//   MongoDB:  linux/mongodb-linux-<arch>-<target>-<version>.tgz → mongodb-linux-<arch>-<target>-<version>/bin/…
//             osx/mongodb-macos-<x86_64|arm64>-<version>.tgz      → mongodb-macos-<x86_64|aarch64>-<version>/bin/…
//             full.json: versions[] → {version, production_release, ..., downloads[] →
//                        {target, arch, edition, archive {url, sha256, sha1, debug_symbols}}}; <archive>.sha256 beside
//   Percona:  percona-server-mongodb-<x.y>/percona-server-mongodb-<ver>/binary/tarball/
//               percona-server-mongodb-<ver>-<arch>.<codename>-minimal.tar.gz (+ .sha256sum) → …/bin/…
//             percona.json: the same list shape (Percona publishes none; a mup mirror carries one)
// bin/ holds the simulator's mongod and mongos wrappers stamped with the version, plus a `mongo` shell stub
// for versions before 6.0 (the legacy shell left the server archive in 6.0). Sums are real sha256/sha1.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { writeSimBinaries } from './install.js';

export type FakeArch = 'x86_64' | 'aarch64';

export interface FakeVersion {
  version: string;
  /** Default: true unless the version has a pre-release suffix (-rc0). */
  production?: boolean;
  /** MongoDB targets (ubuntu2204, rhel80, debian12, macos, linux_x86_64, ...). Default: ['ubuntu2204']. */
  targets?: string[];
  /** Default: ['x86_64']. */
  arches?: FakeArch[];
  /** Test fault: leave these programs out of the archive's bin/. */
  omit?: ('mongod' | 'mongos')[];
}

export interface FakePerconaVersion {
  /** Percona release, e.g. "7.0.14-8". */
  version: string;
  /** Codenames or glibc suffixes (jammy, bookworm, glibc2.17). Default: ['jammy']. */
  targets?: string[];
  arches?: FakeArch[];
}

export interface FakeReleaseOptions {
  outDir: string;
  versions?: FakeVersion[];
  percona?: FakePerconaVersion[];
  /**
   * Prefix of archive URLs in the lists. Default: the vendors' real hosts (https://fastdl.mongodb.org/,
   * https://downloads.percona.com/downloads/), which a mup mirror rewrites; '' writes URLs relative to outDir.
   */
  baseUrl?: string;
  perconaBaseUrl?: string;
  /** Adds an incompressible file of this many bytes to every archive (download benchmarks). */
  padBytes?: number;
}

export interface FakeArchive {
  variant: 'mongodb' | 'percona';
  version: string;
  target: string;
  arch: FakeArch;
  /** Path relative to outDir. */
  path: string;
  url: string;
  sha256: string;
  sha1: string;
  bytes: number;
}

interface ListDownload {
  target: string;
  arch: string;
  edition: string;
  archive: { url: string; sha256: string; sha1: string; debug_symbols: string };
}

interface ListVersion {
  version: string;
  production_release: boolean;
  release_candidate: boolean;
  development_release: boolean;
  continuous_release: boolean;
  lts_release: boolean;
  current: boolean;
  date: string;
  githash: string;
  changes: string;
  notes: string;
  downloads: ListDownload[];
}

export interface FakeReleases {
  archives: FakeArchive[];
  /** Written to <outDir>/full.json. */
  list: { versions: ListVersion[] };
  /** Written to <outDir>/percona.json when Percona versions were asked for. */
  perconaList: { versions: ListVersion[] } | undefined;
}

export function mongodbArchivePath(
  version: string,
  target: string,
  arch: FakeArch,
): { path: string; top: string } {
  if (target === 'macos') {
    // The macOS arm64 archive is named "arm64" but unpacks into an "aarch64" folder.
    const named = arch === 'aarch64' ? 'arm64' : 'x86_64';
    return { path: `osx/mongodb-macos-${named}-${version}.tgz`, top: `mongodb-macos-${arch}-${version}` };
  }
  if (target.startsWith('linux_')) {
    const top = `mongodb-linux-${arch}-${version}`;
    return { path: `linux/${top}.tgz`, top };
  }
  const top = `mongodb-linux-${arch}-${target}-${version}`;
  return { path: `linux/${top}.tgz`, top };
}

export function perconaArchivePath(
  version: string,
  target: string,
  arch: FakeArch,
): { path: string; top: string } {
  const series = version.split('.').slice(0, 2).join('.');
  const minimal = target.startsWith('glibc') ? '' : '-minimal';
  const file = `percona-server-mongodb-${version}-${arch}.${target}${minimal}.tar.gz`;
  return {
    path: `percona-server-mongodb-${series}/percona-server-mongodb-${version}/binary/tarball/${file}`,
    top: `percona-server-mongodb-${version}`,
  };
}

function needsLegacyShell(version: string): boolean {
  return Number.parseInt(version, 10) < 6;
}

async function writePadding(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = 1 << 20;
  for (let written = 0; written < bytes; written += chunk) {
    const piece = randomBytes(Math.min(chunk, bytes - written));
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

async function sums(path: string): Promise<{ sha256: string; sha1: string; bytes: number }> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    sha1.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), sha1: sha1.digest('hex'), bytes: (await stat(path)).size };
}

async function buildArchive(options: {
  outDir: string;
  relPath: string;
  top: string;
  simVersion: string;
  legacyShell: boolean;
  omit: readonly string[];
  padBytes: number;
}): Promise<{ sha256: string; sha1: string; bytes: number }> {
  const work = await mkdtemp(join(tmpdir(), 'mup-fake-release-'));
  try {
    const bin = join(work, options.top, 'bin');
    await writeSimBinaries(bin, options.simVersion);
    if (options.legacyShell) {
      const shell = join(bin, 'mongo');
      await writeFile(shell, `#!/bin/sh\necho 'MongoDB shell version v${options.simVersion}'\n`);
      await chmod(shell, 0o755);
    }
    for (const program of options.omit) await rm(join(bin, program), { force: true });
    await writeFile(join(work, options.top, 'LICENSE-Community.txt'), 'Simulated release for tests.\n');
    if (options.padBytes > 0) await writePadding(join(work, options.top, 'padding.bin'), options.padBytes);
    const dest = join(options.outDir, options.relPath);
    await mkdir(dirname(dest), { recursive: true });
    // Level 1: padding is random and does not compress; a higher level only costs time.
    await tar.create(
      { gzip: { level: options.padBytes > 0 ? 1 : 6 }, file: dest, cwd: work, portable: true },
      [options.top],
    );
    return await sums(dest);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function listVersion(version: string, production: boolean, downloads: ListDownload[]): ListVersion {
  return {
    version,
    production_release: production,
    release_candidate: /-rc\d*$/.test(version),
    development_release: !production && !/-rc\d*$/.test(version),
    continuous_release: false,
    lts_release: false,
    current: false,
    date: '2024-01-01T00:00:00.000Z',
    githash: createHash('sha1').update(version).digest('hex'),
    changes: `https://jira.mongodb.org/issues/?jql=fixVersion%20%3D%20${encodeURIComponent(version)}`,
    notes: `https://www.mongodb.com/docs/manual/release-notes/${version.split('.').slice(0, 2).join('.')}/`,
    downloads,
  };
}

export async function makeFakeReleases(options: FakeReleaseOptions): Promise<FakeReleases> {
  const baseUrl = options.baseUrl ?? 'https://fastdl.mongodb.org/';
  const perconaBaseUrl =
    options.perconaBaseUrl ?? options.baseUrl ?? 'https://downloads.percona.com/downloads/';
  const padBytes = options.padBytes ?? 0;
  await mkdir(options.outDir, { recursive: true });
  const archives: FakeArchive[] = [];
  const versions: ListVersion[] = [];
  for (const spec of options.versions ?? []) {
    const downloads: ListDownload[] = [];
    for (const arch of spec.arches ?? ['x86_64']) {
      for (const target of spec.targets ?? ['ubuntu2204']) {
        const { path, top } = mongodbArchivePath(spec.version, target, arch);
        const made = await buildArchive({
          outDir: options.outDir,
          relPath: path,
          top,
          simVersion: spec.version,
          legacyShell: needsLegacyShell(spec.version),
          omit: spec.omit ?? [],
          padBytes,
        });
        await writeFile(join(options.outDir, `${path}.sha256`), `${made.sha256}  ${path.split('/').pop()}\n`);
        const url = `${baseUrl}${path}`;
        archives.push({ variant: 'mongodb', version: spec.version, target, arch, path, url, ...made });
        downloads.push({
          target,
          // full.json spells the macOS arm64 architecture "arm64" and Linux's "aarch64".
          arch: target === 'macos' && arch === 'aarch64' ? 'arm64' : arch,
          edition: target === 'macos' || target.startsWith('linux_') ? 'base' : 'targeted',
          archive: { url, sha256: made.sha256, sha1: made.sha1, debug_symbols: '' },
        });
      }
    }
    versions.push(listVersion(spec.version, spec.production ?? !spec.version.includes('-'), downloads));
  }
  const list = { versions };
  await writeFile(join(options.outDir, 'full.json'), `${JSON.stringify(list, null, 1)}\n`);

  let perconaList: FakeReleases['perconaList'];
  if (options.percona && options.percona.length > 0) {
    const perconaVersions: ListVersion[] = [];
    for (const spec of options.percona) {
      const downloads: ListDownload[] = [];
      for (const arch of spec.arches ?? ['x86_64']) {
        for (const target of spec.targets ?? ['jammy']) {
          const { path, top } = perconaArchivePath(spec.version, target, arch);
          const made = await buildArchive({
            outDir: options.outDir,
            relPath: path,
            top,
            simVersion: spec.version,
            legacyShell: needsLegacyShell(spec.version),
            omit: [],
            padBytes,
          });
          await writeFile(
            join(options.outDir, `${path}.sha256sum`),
            `${made.sha256}  ${path.split('/').pop()}\n`,
          );
          const url = `${perconaBaseUrl}${path}`;
          archives.push({ variant: 'percona', version: spec.version, target, arch, path, url, ...made });
          downloads.push({
            target,
            arch,
            edition: 'percona',
            archive: { url, sha256: made.sha256, sha1: made.sha1, debug_symbols: '' },
          });
        }
      }
      perconaVersions.push(listVersion(spec.version, true, downloads));
    }
    perconaList = { versions: perconaVersions };
    await writeFile(join(options.outDir, 'percona.json'), `${JSON.stringify(perconaList, null, 1)}\n`);
  }
  return { archives, list, perconaList };
}
