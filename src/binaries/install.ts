// `mup mongo install`: resolve → (already cached? done) → download + sha256 → extract → check layout, inside
// package-store's `installPackage` (lock, staging in packages/.tmp/, markers, one rename into the cache).
import { downloadAndUnpack } from './download.js';
import { DownloadError, ReleaseListError } from './errors.js';
import { checkServerLayout } from './layout.js';
import {
  findPackage,
  type InstalledPackage,
  installPackage,
  listPackages,
  packageName,
} from './package-store.js';
import { type BinaryContext, hostFor, type ReleaseChoice, resolveRelease } from './resolve.js';
import { checkMirror } from './source.js';
import { rankCandidates } from './targets.js';
import { compareVersions, parseVersionSpec } from './versions.js';

export interface InstallResult extends InstalledPackage {
  /** The version as asked ("8.0"); `version` is what it resolved to. */
  requested: string;
  /** True when the package was already in the cache and nothing was downloaded. */
  alreadyInstalled: boolean;
  downloadedBytes: number;
}

export async function installRelease(
  ctx: BinaryContext,
  requested: string,
  choice: ReleaseChoice = {},
): Promise<InstallResult> {
  const variant = ctx.variant ?? 'mongodb';
  checkMirror(ctx.mirror);
  // An exact version already in the cache needs no release list: this is what makes installs work offline.
  const cached = await findCachedExact(ctx, requested, choice);
  if (cached) {
    ctx.onEvent?.({ type: 'cached', package: cached.name, dir: cached.dir });
    return { ...cached, requested, alreadyInstalled: true, downloadedBytes: 0 };
  }
  let release: Awaited<ReturnType<typeof resolveRelease>>;
  try {
    release = await resolveRelease(ctx, requested, choice);
  } catch (error) {
    // No release list (offline, mirror down): a series already in the cache is still usable.
    if (!(error instanceof DownloadError || error instanceof ReleaseListError)) throw error;
    const offline = await findCachedSeries(ctx, requested, choice);
    if (!offline) throw error;
    ctx.onEvent?.({ type: 'cached', package: offline.name, dir: offline.dir });
    return { ...offline, requested, alreadyInstalled: true, downloadedBytes: 0 };
  }
  const key = { variant, version: release.version, target: release.target, arch: release.arch };
  const name = packageName(key);
  let downloadedBytes = 0;
  const { installed, built } = await installPackage(ctx.home, key, {
    current: () => findPackage(ctx.home, key),
    build: async (tree) => {
      const { bytes } = await downloadAndUnpack(release.url, tree, {
        name: release.archiveName,
        sha256: release.sha256,
        timeoutMs: ctx.timeoutMs,
        onEvent: ctx.onEvent,
      });
      downloadedBytes = bytes;
      await checkServerLayout(tree, release.archiveName);
      return { sha256: release.sha256, url: release.url, archiveName: release.archiveName };
    },
    onWait: () => ctx.onEvent?.({ type: 'waiting-for-lock', package: name }),
  });
  ctx.onEvent?.({ type: built ? 'installed' : 'cached', package: name, dir: installed.dir });
  return { ...installed, requested, alreadyInstalled: !built, downloadedBytes };
}

async function findCachedExact(
  ctx: BinaryContext,
  requested: string,
  choice: ReleaseChoice,
): Promise<InstalledPackage | undefined> {
  const variant = ctx.variant ?? 'mongodb';
  let exact: string;
  try {
    const spec = parseVersionSpec(requested, variant);
    if (spec.kind !== 'exact') return undefined;
    exact = spec.text;
  } catch {
    return undefined;
  }
  const host = await hostFor(ctx, choice);
  const installed = (await listPackages(ctx.home)).filter(
    (p) =>
      p.variant === variant &&
      p.version === exact &&
      p.arch === host.arch &&
      (choice.target === undefined || p.target === choice.target),
  );
  if (choice.target !== undefined) return installed[0];
  // Rank the cached targets exactly as downloads would be ranked, so the cache never picks an unfit build.
  const ranked = rankCandidates(
    {
      version: exact,
      downloads: installed.map((p) => ({
        target: p.target,
        arch: p.arch,
        edition: variant === 'mongodb' ? 'targeted' : 'percona',
        archive: { url: p.url },
      })),
    },
    host,
    variant,
  );
  const best = ranked[0];
  return best ? installed.find((p) => p.target === best.target) : undefined;
}

/** The newest cached production version of a series ("8.0" or "8"), used when no release list is reachable. */
async function findCachedSeries(
  ctx: BinaryContext,
  requested: string,
  choice: ReleaseChoice,
): Promise<InstalledPackage | undefined> {
  const variant = ctx.variant ?? 'mongodb';
  const spec = parseVersionSpec(requested, variant);
  if (spec.kind !== 'series') return undefined;
  const inSeries = (version: string) => {
    const [major, minor] = version.split(/[.-]/).map(Number);
    return (
      major === spec.major &&
      (spec.minor === undefined || minor === spec.minor) &&
      !/-rc|-alpha|-beta/.test(version)
    );
  };
  const versions = [
    ...new Set(
      (await listPackages(ctx.home))
        .filter((p) => p.variant === variant && inSeries(p.version))
        .map((p) => p.version),
    ),
  ];
  const newest = versions.sort((a, b) => compareVersions(b, a, variant))[0];
  return newest === undefined ? undefined : findCachedExact(ctx, newest, choice);
}
