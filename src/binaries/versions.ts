// Version resolution against a release list: "8.0" → newest production 8.0.x, "8" → newest production 8.x,
// "7.0.14" (or "7.0.14-8" for Percona) exact, "latest" → newest production release.
import semver from 'semver';
import { UsageError } from '../errors.js';
import { VersionNotFoundError } from './errors.js';
import type { ReleaseList, ReleaseVersion } from './release-list.js';
import type { Variant } from './source.js';

export type VersionSpec =
  | { kind: 'exact'; text: string }
  | { kind: 'series'; text: string; major: number; minor: number | undefined }
  | { kind: 'latest'; text: string };

export function parseVersionSpec(text: string, variant: Variant = 'mongodb'): VersionSpec {
  const trimmed = text.trim().replace(/^v/, '');
  if (trimmed === 'latest' || trimmed === 'stable') return { kind: 'latest', text: trimmed };
  const series = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (series) {
    const major = Number(series[1]);
    return {
      kind: 'series',
      text: trimmed,
      major,
      minor: series[2] === undefined ? undefined : Number(series[2]),
    };
  }
  const exact = variant === 'percona' ? /^\d+\.\d+\.\d+-\d+(\.\d+)?$/ : /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
  if (exact.test(trimmed)) return { kind: 'exact', text: trimmed };
  throw new UsageError(
    `"${text}" is not a version`,
    variant === 'percona'
      ? 'give a series like 7.0 or an exact Percona release like 7.0.14-8'
      : 'give a series like 8.0 or an exact version like 7.0.14',
  );
}

/** Numeric sort key: MongoDB "7.0.14" → [7,0,14], "8.0.0-rc1" sorts before 8.0.0; Percona "7.0.14-8" → [7,0,14,8]. */
export function compareVersions(a: string, b: string, variant: Variant = 'mongodb'): number {
  if (variant === 'percona') {
    const pa = a.split(/[.-]/).map(Number);
    const pb = b.split(/[.-]/).map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pa[i] ?? 0) - (pb[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  }
  const sa = semver.coerce(a, { includePrerelease: true });
  const sb = semver.coerce(b, { includePrerelease: true });
  if (sa && sb) return semver.compare(sa, sb);
  return a.localeCompare(b);
}

export function isProduction(entry: ReleaseVersion, variant: Variant = 'mongodb'): boolean {
  if (entry.production_release !== undefined) return entry.production_release;
  // Percona lists written by hand may omit the flag; their releases are all production builds.
  return variant === 'percona' || !/-/.test(entry.version);
}

function seriesOf(version: string): [number, number] {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  return [major ?? 0, minor ?? 0];
}

export interface ResolveOptions {
  variant?: Variant;
  /** Also consider release candidates and development releases for series and "latest". */
  includeDevelopment?: boolean;
}

export function resolveVersion(
  list: ReleaseList,
  text: string,
  options: ResolveOptions = {},
): ReleaseVersion {
  const variant = options.variant ?? 'mongodb';
  const spec = parseVersionSpec(text, variant);
  const label = variant === 'percona' ? 'Percona Server for MongoDB' : 'MongoDB';
  if (spec.kind === 'exact') {
    const found = list.versions.find((entry) => entry.version === spec.text);
    if (found) return found;
    throw new VersionNotFoundError(
      `${label} ${spec.text} is not in the release list`,
      spec.text,
      nearestVersions(list, spec.text, variant),
    );
  }
  const candidates = list.versions.filter((entry) => {
    if (!options.includeDevelopment && !isProduction(entry, variant)) return false;
    if (spec.kind === 'latest') return true;
    const [major, minor] = seriesOf(entry.version);
    return major === spec.major && (spec.minor === undefined || minor === spec.minor);
  });
  const newest = candidates.sort((a, b) => compareVersions(b.version, a.version, variant))[0];
  if (newest) return newest;
  const what =
    spec.kind === 'latest' ? 'production release' : `production release of the ${spec.text} series`;
  throw new VersionNotFoundError(
    `no ${label} ${what} is in the release list`,
    spec.text,
    nearestVersions(list, spec.kind === 'series' ? `${spec.major}.${spec.minor ?? 0}.0` : '0.0.0', variant),
  );
}

/** Up to five production versions closest to `wanted` in release order (same series first). */
export function nearestVersions(list: ReleaseList, wanted: string, variant: Variant = 'mongodb'): string[] {
  const production = list.versions
    .filter((entry) => isProduction(entry, variant))
    .map((entry) => entry.version)
    .sort((a, b) => compareVersions(a, b, variant));
  if (production.length === 0) return [];
  const [wMajor, wMinor] = seriesOf(wanted);
  const sameSeries = production.filter((v) => {
    const [major, minor] = seriesOf(v);
    return major === wMajor && minor === wMinor;
  });
  const pool = sameSeries.length > 0 ? sameSeries : production;
  let index = pool.findIndex((v) => compareVersions(v, wanted, variant) > 0);
  if (index < 0) index = pool.length;
  const start = Math.max(0, Math.min(index - 3, pool.length - 5));
  return pool.slice(start, start + 5).reverse();
}
