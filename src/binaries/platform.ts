// The platform being deployed to: OS, CPU architecture and, on Linux, the distribution from /etc/os-release
// (os-release(5): KEY=value lines, values optionally quoted). The file is read through an injected reader so
// remote hosts (read over SSH) and tests (any distro) use the same code.
import { readFile } from 'node:fs/promises';
import { arch as osArch, platform as osPlatform } from 'node:os';
import { UsageError } from '../errors.js';
import { type Arch, normalizeArch } from './release-list.js';

export interface LinuxDistro {
  /** ID, lower case: ubuntu, debian, rhel, rocky, almalinux, centos, ol, amzn, sles, ... */
  id: string;
  /** ID_LIKE entries: e.g. ["rhel", "centos", "fedora"] for Rocky. */
  idLike: string[];
  /** VERSION_ID: "22.04", "12", "9.4", "2023". */
  versionId: string | undefined;
  /** VERSION_CODENAME, else UBUNTU_CODENAME: "jammy", "bookworm". */
  codename: string | undefined;
  /** UBUNTU_CODENAME of Ubuntu derivatives (Mint, Pop!_OS), which carry their own VERSION_ID. */
  ubuntuCodename: string | undefined;
  prettyName: string | undefined;
}

export interface HostPlatform {
  os: 'linux' | 'darwin';
  arch: Arch;
  distro?: LinuxDistro | undefined;
}

export function parseOsRelease(text: string): LinuxDistro {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))
      value = value.slice(1, -1);
    values.set(line.slice(0, eq).trim(), value.replace(/\\(["'$`\\])/g, '$1'));
  }
  const get = (key: string) => {
    const value = values.get(key);
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    id: (get('ID') ?? 'linux').toLowerCase(),
    idLike: (get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean),
    versionId: get('VERSION_ID'),
    codename: (get('VERSION_CODENAME') ?? get('UBUNTU_CODENAME'))?.toLowerCase(),
    ubuntuCodename: get('UBUNTU_CODENAME')?.toLowerCase(),
    prettyName: get('PRETTY_NAME'),
  };
}

/** Reads os-release text; undefined when the host has none. */
export type OsReleaseReader = () => Promise<string | undefined>;

export const readLocalOsRelease: OsReleaseReader = async () => {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // try the next location os-release(5) names
    }
  }
  return undefined;
};

/**
 * Builds a HostPlatform from what a host reports: `os` as Node's process.platform or `uname -s`
 * (Linux, Darwin), `arch` as Node's process.arch or `uname -m` (x86_64, aarch64, arm64).
 */
export function hostPlatform(os: string, arch: string, osRelease: string | undefined): HostPlatform {
  const lowerOs = os.toLowerCase();
  const normalizedArch = normalizeArch(arch);
  if (!normalizedArch)
    throw new UsageError(
      `unsupported CPU architecture "${arch}"`,
      'MongoDB builds exist for x86_64 and arm64',
    );
  if (lowerOs === 'darwin') return { os: 'darwin', arch: normalizedArch };
  if (lowerOs !== 'linux')
    throw new UsageError(
      `unsupported operating system "${os}"`,
      'mup deploys to Linux hosts, and macOS locally',
    );
  return {
    os: 'linux',
    arch: normalizedArch,
    distro: osRelease === undefined ? undefined : parseOsRelease(osRelease),
  };
}

export async function detectLocalPlatform(
  options: { reader?: OsReleaseReader; platform?: string; arch?: string } = {},
): Promise<HostPlatform> {
  const os = options.platform ?? osPlatform();
  const text = os === 'linux' ? await (options.reader ?? readLocalOsRelease)() : undefined;
  return hostPlatform(os, options.arch ?? osArch(), text);
}

export function describePlatform(host: HostPlatform): string {
  if (host.os === 'darwin') return `macOS (${host.arch})`;
  const distro = host.distro;
  if (!distro) return `Linux without /etc/os-release (${host.arch})`;
  return `${distro.prettyName ?? `${distro.id} ${distro.versionId ?? ''}`.trim()} (${host.arch})`;
}
