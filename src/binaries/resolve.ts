// From "what the user asked for" to one archive: variant + version spec + platform → the exact version, the
// chosen target, the URL to fetch (mirror-aware) and the sha256 to verify it against.
import { MupError, UsageError } from '../errors.js';
import { DownloadError, NoTargetError, ReleaseListError, VersionNotFoundError } from './errors.js';
import type { BinaryEventListener } from './events.js';
import { fetchText } from './http.js';
import { parseSha256File, perconaArchiveUrl, perconaVersionEntry } from './percona.js';
import { detectLocalPlatform, type HostPlatform } from './platform.js';
import { loadReleaseList } from './release-cache.js';
import {
  type Arch,
  archiveFileName,
  normalizeArch,
  type ReleaseDownload,
  type ReleaseList,
  type ReleaseVersion,
} from './release-list.js';
import { archiveUrlFor, checkMirror, type ReleaseSource, resolveSource, type Variant } from './source.js';
import { chooseDownload, perconaTargetOrder } from './targets.js';
import { parseVersionSpec, resolveVersion } from './versions.js';

/** What every binaries operation needs; `home` is the resolved mup home. */
export interface BinaryContext {
  home: string;
  variant?: Variant | undefined;
  /** Mirror URL or directory (from --mirror, else MUP_MIRROR); undefined = the vendor's host. */
  mirror?: string | undefined;
  /** The platform being deployed to; default: this machine. */
  host?: HostPlatform | undefined;
  /** Per-request inactivity timeout in ms. */
  timeoutMs?: number | undefined;
  onEvent?: BinaryEventListener | undefined;
  /** Accept release candidates / development releases for series and "latest". */
  includeDevelopment?: boolean | undefined;
  /** Refetch the release list even if the cached copy is fresh. */
  refresh?: boolean | undefined;
}

export interface ReleaseChoice {
  target?: string | undefined;
  arch?: string | undefined;
}

export interface ResolvedRelease {
  variant: Variant;
  requested: string;
  version: string;
  target: string;
  arch: Arch;
  archiveName: string;
  /** The archive URL as the release list gives it. */
  listedUrl: string;
  /** The URL actually fetched (rewritten to the mirror when one is used). */
  url: string;
  sha256: string;
  entry: ReleaseVersion;
  download: ReleaseDownload;
  source: ReleaseSource;
}

/** Reads MUP_DOWNLOAD_TIMEOUT_MS (milliseconds) when set to a positive number. */
export function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = Number(env.MUP_DOWNLOAD_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

export async function hostFor(ctx: BinaryContext, choice: ReleaseChoice = {}): Promise<HostPlatform> {
  const host = ctx.host ?? (await detectLocalPlatform());
  if (choice.arch === undefined) return host;
  const arch = normalizeArch(choice.arch);
  if (!arch) throw new UsageError(`unknown architecture "${choice.arch}"`, 'use x86_64 or arm64');
  return { ...host, arch };
}

export function sourceFor(ctx: BinaryContext): ReleaseSource {
  return resolveSource(ctx.variant ?? 'mongodb', ctx.mirror);
}

/** The release list of the context's source (undefined for Percona's own host, which publishes none). */
export async function releaseListFor(ctx: BinaryContext): Promise<ReleaseList | undefined> {
  return loadReleaseList({
    home: ctx.home,
    source: sourceFor(ctx),
    timeoutMs: ctx.timeoutMs,
    onEvent: ctx.onEvent,
    refresh: ctx.refresh ?? false,
  });
}

/**
 * A Percona mirror may be a plain copy of Percona's download tree without a percona.json; then releases
 * are found by their names, as on Percona's own host.
 */
async function perconaTolerantList(ctx: BinaryContext): Promise<ReleaseList | undefined> {
  try {
    return await releaseListFor(ctx);
  } catch (error) {
    const missing = error instanceof ReleaseListError && isNotFound(error.cause);
    if ((ctx.variant ?? 'mongodb') === 'percona' && missing) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof DownloadError && /HTTP 404|not found/.test(error.message);
}

export async function resolveRelease(
  ctx: BinaryContext,
  requested: string,
  choice: ReleaseChoice = {},
): Promise<ResolvedRelease> {
  const variant = ctx.variant ?? 'mongodb';
  checkMirror(ctx.mirror);
  const source = sourceFor(ctx);
  const host = await hostFor(ctx, choice);
  const list = await perconaTolerantList(ctx);
  if (!list) return resolvePerconaWithoutList(ctx, source, host, requested, choice);
  let entry: ReleaseVersion;
  try {
    entry = resolveVersion(list, requested, { variant, includeDevelopment: ctx.includeDevelopment ?? false });
  } catch (error) {
    // A cached list may predate the release (or the mirror's latest additions): fetch it once more.
    if (error instanceof VersionNotFoundError && !ctx.refresh && source.listUrl?.startsWith('http'))
      return resolveRelease({ ...ctx, refresh: true }, requested, choice);
    throw error;
  }
  const candidate = chooseDownload(entry, host, { target: choice.target, variant });
  const listedUrl = candidate.download.archive?.url ?? '';
  const url = archiveUrlFor(source, listedUrl);
  const sha256 = candidate.download.archive?.sha256 ?? (await publishedSha256(url, ctx.timeoutMs));
  const resolved: ResolvedRelease = {
    variant,
    requested,
    version: entry.version,
    target: candidate.target,
    arch: candidate.arch,
    archiveName: archiveFileName(listedUrl),
    listedUrl,
    url,
    sha256,
    entry,
    download: candidate.download,
    source,
  };
  ctx.onEvent?.({
    type: 'resolved',
    variant,
    requested,
    version: entry.version,
    target: candidate.target,
    arch: candidate.arch,
  });
  return resolved;
}

/** Older list entries may lack sha256; the download host publishes `<archive>.sha256` beside each archive. */
async function publishedSha256(url: string, timeoutMs: number | undefined): Promise<string> {
  let text: string;
  try {
    text = await fetchText(`${url}.sha256`, { timeoutMs });
  } catch (error) {
    throw new MupError(`no sha256 is published for ${url}`, {
      hint: 'mup installs only archives it can verify; choose another version or a mirror that lists the checksum',
      cause: error,
    });
  }
  const sha = parseSha256File(text);
  if (!sha) throw new MupError(`${url}.sha256 holds no sha256 sum`);
  return sha;
}

async function resolvePerconaWithoutList(
  ctx: BinaryContext,
  source: ReleaseSource,
  host: HostPlatform,
  requested: string,
  choice: ReleaseChoice,
): Promise<ResolvedRelease> {
  const spec = parseVersionSpec(requested, 'percona');
  if (spec.kind !== 'exact')
    throw new VersionNotFoundError(
      `Percona publishes no release list, so "${requested}" cannot be resolved to a release`,
      requested,
      [],
      'give an exact Percona release such as 7.0.14-8, or use a mirror whose percona.json lists the releases',
    );
  const targets = choice.target !== undefined ? [choice.target] : perconaTargetOrder(host);
  const tried: string[] = [];
  for (const target of targets) {
    const listedUrl = perconaArchiveUrl(spec.text, host.arch, target);
    const url = archiveUrlFor(source, listedUrl);
    let text: string;
    try {
      text = await fetchText(`${url}.sha256sum`, { timeoutMs: ctx.timeoutMs });
    } catch (error) {
      // A missing checksum file means no tarball for this OS; anything else (timeout, reset) is fatal.
      if (isNotFound(error)) {
        tried.push(target);
        continue;
      }
      throw error;
    }
    const sha256 = parseSha256File(text);
    if (!sha256) throw new MupError(`${url}.sha256sum holds no sha256 sum`);
    const entry = perconaVersionEntry(spec.text, host.arch, [target]);
    const download = entry.downloads[0] as ReleaseDownload;
    if (download.archive) download.archive.sha256 = sha256;
    ctx.onEvent?.({
      type: 'resolved',
      variant: 'percona',
      requested,
      version: spec.text,
      target,
      arch: host.arch,
    });
    return {
      variant: 'percona',
      requested,
      version: spec.text,
      target,
      arch: host.arch,
      archiveName: archiveFileName(listedUrl),
      listedUrl,
      url,
      sha256,
      entry,
      download,
      source,
    };
  }
  throw new NoTargetError(
    `no Percona Server for MongoDB ${spec.text} tarball for ${host.arch} found (tried: ${tried.join(', ') || 'none'})`,
    [],
  );
}
