// `mup mirror <dir> --version V...`: copies archives from the current source (vendor or another mirror) into
// <dir> at the same relative paths as on the download host (linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz),
// each verified against the list's sha256 and written with a `.sha256` file beside it, and writes the
// release list (full.json, or percona.json) with those versions and archive URLs relative to the mirror.
// An existing mirror is extended: its list is merged, and archives already present with the right hash are
// not downloaded again.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { UsageError } from '../errors.js';
import { downloadFile } from './download.js';
import {
  type Arch,
  downloadArch,
  parseReleaseList,
  type ReleaseDownload,
  type ReleaseList,
  type ReleaseVersion,
} from './release-list.js';
import { type BinaryContext, hostFor, type ResolvedRelease, resolveRelease } from './resolve.js';
import { mirrorListFile, relativeOnVendorHost, type Variant } from './source.js';

export interface MirrorOptions {
  dir: string;
  versions: readonly string[];
  /** Targets to copy per version (default: the one chosen for the platform). */
  targets?: readonly string[] | undefined;
  arch?: string | undefined;
  /** Copy every target of the architecture. */
  allTargets?: boolean | undefined;
}

export interface MirroredArchive {
  version: string;
  target: string;
  arch: string;
  /** Path relative to the mirror root. */
  path: string;
  sha256: string;
  bytes: number;
  /** True when the archive was already in the mirror with the right hash. */
  reused: boolean;
}

export interface MirrorResult {
  dir: string;
  listFile: string;
  versions: string[];
  archives: MirroredArchive[];
}

export async function buildMirror(ctx: BinaryContext, options: MirrorOptions): Promise<MirrorResult> {
  if (options.versions.length === 0) throw new UsageError('no version given', 'add --version <version>');
  const variant = ctx.variant ?? 'mongodb';
  const root = resolve(options.dir);
  const host = await hostFor(ctx, { arch: options.arch });
  const picked: ResolvedRelease[] = [];
  for (const requested of options.versions) {
    const first = await resolveRelease(ctx, requested, { target: options.targets?.[0], arch: options.arch });
    picked.push(first);
    let more: string[] = [];
    if (options.allTargets) more = allTargets(first.entry, host.arch, variant);
    else if (options.targets) more = options.targets.slice(1);
    for (const target of more.filter((t) => t !== first.target))
      picked.push(await resolveRelease(ctx, first.version, { target, arch: options.arch }));
  }
  const archives: MirroredArchive[] = [];
  const entries = new Map<string, ReleaseVersion>();
  for (const release of picked) {
    const path = mirrorPathFor(release);
    const archive = await copyArchive(ctx, release, root, path);
    archives.push(archive);
    const entry = entries.get(release.version) ?? { ...release.entry, downloads: [] };
    const archiveInfo = { ...(release.download.archive ?? {}), url: path, sha256: release.sha256 };
    entry.downloads.push({ ...release.download, archive: archiveInfo } as ReleaseDownload);
    entries.set(release.version, entry);
  }
  const listFile = join(root, mirrorListFile[variant]);
  await writeFileAtomic(
    listFile,
    `${JSON.stringify(await mergeList(listFile, [...entries.values()]), null, 1)}\n`,
  );
  return { dir: root, listFile, versions: [...entries.keys()], archives };
}

function allTargets(entry: ReleaseVersion, arch: Arch, variant: Variant): string[] {
  const community = (d: ReleaseDownload) =>
    variant !== 'mongodb' || d.edition === 'targeted' || d.edition === 'base';
  return [
    ...new Set(
      entry.downloads
        .filter((d) => d.archive?.url && community(d) && downloadArch(d) === arch)
        .map((d) => d.target ?? 'linux'),
    ),
  ];
}

/** Where an archive goes in the mirror: its path on the vendor host, else under archives/; never outside. */
export function mirrorPathFor(release: ResolvedRelease): string {
  const listed = release.listedUrl;
  const candidate = /^[a-z][a-z0-9+.-]*:/i.test(listed)
    ? relativeOnVendorHost(release.variant, listed)
    : listed.replace(/^\/+/, '');
  const normalized = candidate === undefined ? undefined : posix.normalize(candidate);
  if (normalized === undefined || normalized.startsWith('..') || posix.isAbsolute(normalized))
    return `archives/${release.archiveName}`;
  return normalized;
}

async function sha256Of(path: string): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

async function copyArchive(
  ctx: BinaryContext,
  release: ResolvedRelease,
  root: string,
  relative: string,
): Promise<MirroredArchive> {
  const dest = join(root, relative);
  const base = { version: release.version, target: release.target, arch: release.arch, path: relative };
  if ((await sha256Of(dest)) === release.sha256) {
    const bytes = (await stat(dest)).size;
    return { ...base, sha256: release.sha256, bytes, reused: true };
  }
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${randomBytes(4).toString('hex')}`;
  try {
    const { bytes } = await downloadFile(release.url, partial, {
      name: release.archiveName,
      sha256: release.sha256,
      timeoutMs: ctx.timeoutMs,
      onEvent: ctx.onEvent,
    });
    await rename(partial, dest);
    const shaFile = release.variant === 'percona' ? `${dest}.sha256sum` : `${dest}.sha256`;
    await writeFileAtomic(shaFile, `${release.sha256}  ${release.archiveName}\n`);
    return { ...base, sha256: release.sha256, bytes, reused: false };
  } finally {
    await rm(partial, { force: true });
  }
}

async function mergeList(listFile: string, added: ReleaseVersion[]): Promise<ReleaseList> {
  let existing: ReleaseList = { versions: [] };
  try {
    existing = parseReleaseList(await readFile(listFile, 'utf8'), listFile);
  } catch {
    // no list yet (or unreadable): start a new one
  }
  const byVersion = new Map(existing.versions.map((v) => [v.version, v]));
  for (const entry of added) {
    const previous = byVersion.get(entry.version);
    if (!previous) {
      byVersion.set(entry.version, entry);
      continue;
    }
    const keyOf = (d: ReleaseDownload) => `${d.target}/${d.arch}/${d.edition}`;
    const merged = new Map(previous.downloads.map((d) => [keyOf(d), d]));
    for (const d of entry.downloads) merged.set(keyOf(d), d);
    byVersion.set(entry.version, { ...previous, downloads: [...merged.values()] });
  }
  return { ...existing, versions: [...byVersion.values()] };
}
