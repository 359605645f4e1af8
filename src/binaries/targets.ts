// Choosing the archive of a version for the platform being deployed to. MongoDB builds one archive per
// distribution release ("target": ubuntu2204, debian12, rhel80 / rhel8, rhel93, amazon2023, macos, ...).
// A build for an older release of the same distribution runs on a newer one (older glibc and OpenSSL), never
// the other way round, so candidates are: same family, target release <= host release, newest first; the
// generic Linux build (old versions only) comes last. Percona names its tarballs by codename (jammy,
// bookworm) or by glibc (glibc2.17, a build for any Linux with that glibc or newer).
import { NoTargetError } from './errors.js';
import type { HostPlatform, LinuxDistro } from './platform.js';
import { describePlatform } from './platform.js';
import { type Arch, downloadArch, type ReleaseDownload, type ReleaseVersion } from './release-list.js';
import type { Variant } from './source.js';

type Family = 'ubuntu' | 'debian' | 'rhel' | 'amazon' | 'suse' | 'macos' | 'generic';
interface Release {
  family: Family;
  version: number[];
}

const ubuntuCodenames: Record<string, number[]> = {
  xenial: [16, 4],
  bionic: [18, 4],
  focal: [20, 4],
  jammy: [22, 4],
  noble: [24, 4],
};
const debianCodenames: Record<string, number> = {
  stretch: 9,
  buster: 10,
  bullseye: 11,
  bookworm: 12,
  trixie: 13,
};
const rhelLike = ['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'redhat'];

function numbers(text: string | undefined): number[] {
  return (text ?? '')
    .split('.')
    .filter(Boolean)
    .map((part) => Number.parseInt(part, 10));
}

/** The host's distribution release in the families MongoDB builds for; undefined when it is none of them. */
export function hostRelease(distro: LinuxDistro): Release | undefined {
  const { id, idLike } = distro;
  if (id === 'ubuntu') return { family: 'ubuntu', version: numbers(distro.versionId) };
  const ubuntuBase = distro.ubuntuCodename && ubuntuCodenames[distro.ubuntuCodename];
  if (ubuntuBase) return { family: 'ubuntu', version: ubuntuBase };
  if (id === 'debian' || (idLike.includes('debian') && !idLike.includes('ubuntu'))) {
    const major =
      numbers(distro.versionId)[0] ?? (distro.codename ? debianCodenames[distro.codename] : undefined);
    return major === undefined ? undefined : { family: 'debian', version: [major] };
  }
  if (id === 'amzn') {
    const major = numbers(distro.versionId)[0];
    // Amazon Linux 1 reports VERSION_ID "2018.03"; MongoDB calls its build plain "amazon".
    return {
      family: 'amazon',
      version: [major !== undefined && major > 2000 && major < 2023 ? 1 : (major ?? 1)],
    };
  }
  if (rhelLike.includes(id) || idLike.some((like) => like === 'rhel' || like === 'centos')) {
    const [major, minor] = numbers(distro.versionId);
    // "9" without a minor (CentOS Stream) accepts every 9.x build.
    return major === undefined ? undefined : { family: 'rhel', version: [major, minor ?? 99] };
  }
  if (id === 'sles' || id.startsWith('opensuse') || idLike.includes('suse')) {
    const major = numbers(distro.versionId)[0];
    return major === undefined ? undefined : { family: 'suse', version: [major] };
  }
  return undefined;
}

/** Parses a MongoDB target name; undefined for targets mup does not deploy to (windows, s390x distros...). */
export function targetRelease(target: string | undefined): Release | undefined {
  if (target === undefined || /^linux(_|$)/.test(target)) return { family: 'generic', version: [] };
  let match = /^ubuntu(\d\d)(\d\d)$/.exec(target);
  if (match) return { family: 'ubuntu', version: [Number(match[1]), Number(match[2])] };
  match = /^debian(\d+)$/.exec(target);
  if (match) {
    const digits = match[1] ?? '';
    // debian81, debian92 name Debian 8 and 9; debian10, debian11, debian12 name themselves.
    const major = /^[89]\d$/.test(digits) ? Number(digits[0]) : Number(digits);
    return { family: 'debian', version: [major] };
  }
  // rhel70, rhel8, rhel93; a leading 1 means RHEL 10+ (rhel10), since there never was a RHEL 1.
  match = /^rhel(1\d|\d)(\d*)$/.exec(target);
  if (match) return { family: 'rhel', version: [Number(match[1]), Number(match[2] || '0')] };
  match = /^amazon(\d*)$/.exec(target);
  if (match) return { family: 'amazon', version: [match[1] ? Number(match[1]) : 1] };
  if (target === 'amzn64') return { family: 'amazon', version: [1] };
  match = /^suse(\d+)$/.exec(target);
  if (match) return { family: 'suse', version: [Number(match[1])] };
  // Newest naming first: macos (4.2+), osx-ssl (3.x-4.0), osx.
  if (target === 'macos') return { family: 'macos', version: [3] };
  if (target === 'osx-ssl') return { family: 'macos', version: [2] };
  if (target === 'osx') return { family: 'macos', version: [1] };
  return undefined;
}

function compareNumbers(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Is a community server archive (not enterprise, source or debug builds). */
function isCommunityServer(download: ReleaseDownload): boolean {
  const edition = download.edition ?? 'base';
  return (edition === 'targeted' || edition === 'base') && download.archive?.url !== undefined;
}

export interface Candidate {
  download: ReleaseDownload;
  target: string;
  arch: Arch;
}

function candidatesFor(version: ReleaseVersion, arch: Arch, variant: Variant): Candidate[] {
  const out: Candidate[] = [];
  for (const download of version.downloads) {
    if (variant === 'mongodb' && !isCommunityServer(download)) continue;
    if (!download.archive?.url) continue;
    if (downloadArch(download) !== arch) continue;
    out.push({ download, arch, target: download.target ?? 'linux' });
  }
  return out;
}

/** Compatible candidates for the host, best first. */
export function rankCandidates(version: ReleaseVersion, host: HostPlatform, variant: Variant): Candidate[] {
  const all = candidatesFor(version, host.arch, variant);
  if (variant === 'percona') {
    const order = perconaTargetOrder(host);
    return all
      .filter((c) => order.includes(c.target))
      .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
  }
  const scored: { candidate: Candidate; release: Release }[] = [];
  const hostRel =
    host.os === 'darwin'
      ? { family: 'macos' as const, version: [99] }
      : host.distro && hostRelease(host.distro);
  for (const candidate of all) {
    const release = targetRelease(candidate.target);
    if (!release) continue;
    if (release.family === 'generic') {
      if (host.os === 'linux') scored.push({ candidate, release });
      continue;
    }
    if (!hostRel || release.family !== hostRel.family) continue;
    if (compareNumbers(release.version, hostRel.version) > 0) continue;
    scored.push({ candidate, release });
  }
  scored.sort((a, b) => {
    if (a.release.family === 'generic' || b.release.family === 'generic')
      return (a.release.family === 'generic' ? 1 : 0) - (b.release.family === 'generic' ? 1 : 0);
    return (
      compareNumbers(b.release.version, a.release.version) ||
      a.candidate.target.localeCompare(b.candidate.target)
    );
  });
  return scored.map((s) => s.candidate);
}

export interface ChooseOptions {
  /** Explicit --target: used as is when the version has it for the architecture. */
  target?: string | undefined;
  variant?: Variant;
}

export function chooseDownload(
  version: ReleaseVersion,
  host: HostPlatform,
  options: ChooseOptions = {},
): Candidate {
  const variant = options.variant ?? 'mongodb';
  const available = [...new Set(candidatesFor(version, host.arch, variant).map((c) => c.target))].sort();
  if (options.target !== undefined) {
    const chosen = candidatesFor(version, host.arch, variant).find((c) => c.target === options.target);
    if (chosen) return chosen;
    throw new NoTargetError(
      `${version.version} has no ${host.arch} archive for target "${options.target}"`,
      available,
    );
  }
  const best = rankCandidates(version, host, variant)[0];
  if (best) return best;
  throw new NoTargetError(`no ${version.version} archive fits ${describePlatform(host)}`, available);
}

/** Percona tarball suffixes for a host, best first: its own codename, then the generic glibc builds. */
export function perconaTargetOrder(host: HostPlatform): string[] {
  const generic = ['glibc2.17'];
  if (host.os !== 'linux' || !host.distro) return host.os === 'linux' ? generic : [];
  const release = hostRelease(host.distro);
  const own: string[] = [];
  if (release?.family === 'ubuntu') {
    for (const [codename, version] of Object.entries(ubuntuCodenames))
      if (compareNumbers(version, release.version) === 0) own.push(codename);
    if (compareNumbers(release.version, [22, 4]) >= 0) generic.unshift('glibc2.35');
  } else if (release?.family === 'debian') {
    for (const [codename, major] of Object.entries(debianCodenames))
      if (major === release.version[0]) own.push(codename);
  } else if (release?.family === 'rhel') {
    own.push(`ol${release.version[0]}`);
  }
  return [...own, ...generic];
}
