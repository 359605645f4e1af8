// Percona Server for MongoDB tarballs (docs.percona.com "Install from binary tarball"):
//   https://downloads.percona.com/downloads/percona-server-mongodb-<x.y>/percona-server-mongodb-<ver>/binary/tarball/
//     percona-server-mongodb-<ver>-<arch>.<codename>-minimal.tar.gz   (5.0+, per OS: jammy, noble, bookworm, ...)
//     percona-server-mongodb-<ver>-<arch>.glibc2.17.tar.gz            (4.x, any Linux with glibc >= 2.17)
// each with a `<file>.sha256sum` beside it. Percona publishes no machine-readable release list, so without a
// mirror list only exact versions (7.0.14-8) resolve; the sha256 then comes from the .sha256sum file.
import type { Arch, ReleaseVersion } from './release-list.js';
import { perconaBase } from './source.js';

export function perconaArchiveName(version: string, arch: Arch, target: string): string {
  const minimal = target.startsWith('glibc') ? '' : '-minimal';
  return `percona-server-mongodb-${version}-${arch}.${target}${minimal}.tar.gz`;
}

/** Path relative to the download root (https://downloads.percona.com/downloads/). */
export function perconaArchivePath(version: string, arch: Arch, target: string): string {
  const series = version.split('.').slice(0, 2).join('.');
  return `percona-server-mongodb-${series}/percona-server-mongodb-${version}/binary/tarball/${perconaArchiveName(version, arch, target)}`;
}

export function perconaArchiveUrl(version: string, arch: Arch, target: string): string {
  return new URL(perconaArchivePath(version, arch, target), perconaBase).href;
}

/** Reads the sha256 from a `sha256sum`-style file ("<hex>  <name>"). */
export function parseSha256File(text: string): string | undefined {
  return /\b([0-9a-f]{64})\b/i.exec(text)?.[1]?.toLowerCase();
}

/** A release-list entry for one exact Percona version, built from the naming convention. */
export function perconaVersionEntry(version: string, arch: Arch, targets: readonly string[]): ReleaseVersion {
  return {
    version,
    production_release: true,
    downloads: targets.map((target) => ({
      target,
      arch,
      edition: 'percona',
      archive: { url: perconaArchiveUrl(version, arch, target) },
    })),
  };
}
