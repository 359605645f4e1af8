// MongoDB version strings as mup receives them: "7.0.14", a Percona build "7.0.14-8", a release candidate
// "8.0.0-rc3". Rendering only needs major.minor.patch to decide which options exist, and the family
// (3.6 … 8.0) that names the golden files and messages.
import semver from 'semver';
import { UsageError } from '../errors.js';

/** Version families mup supports; rapid releases (5.1, 6.2, 7.3, 8.2, ...) belong to the x.0 before them. */
export const VERSION_FAMILIES = ['3.6', '4.0', '4.2', '4.4', '5.0', '6.0', '7.0', '8.0'] as const;
export type VersionFamily = (typeof VERSION_FAMILIES)[number];

export interface MongoVersion {
  /** The string as given, kept for messages. */
  raw: string;
  /** major.minor.patch without any build or prerelease suffix, for comparisons. */
  core: string;
  family: VersionFamily;
}

export class UnsupportedVersionError extends UsageError {
  readonly version: string;

  constructor(version: string, why: string) {
    super(
      `MongoDB version "${version}" ${why}`,
      'mup supports MongoDB 3.6 through 8.x, written as major.minor.patch (e.g. 7.0.14)',
    );
    this.version = version;
  }
}

// Percona appends "-<release>" and pre-releases "-rcN"; neither changes which options exist.
const VERSION_PATTERN = /^(\d+)\.(\d+)(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?$/;

export function parseMongoVersion(raw: string): MongoVersion {
  const match = VERSION_PATTERN.exec(raw.trim());
  if (match === null) throw new UnsupportedVersionError(raw, 'is not a version number');
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const patch = Number(match[3] ?? '0');
  const core = `${major}.${minor}.${patch}`;
  if (semver.lt(core, '3.6.0')) throw new UnsupportedVersionError(raw, 'is older than 3.6');
  if (semver.gte(core, '9.0.0')) throw new UnsupportedVersionError(raw, 'is newer than the 8.x series');
  return { raw, core, family: familyOf(core) };
}

// The family is the newest one released at or before the version: 5.1–5.3 and 6.1–6.3 are rapid releases that
// lead to the next major (so they fall in 5.0 / 6.0), and 3.7, 4.1, 4.3, ... were development series.
function familyOf(core: string): VersionFamily {
  let family: VersionFamily = VERSION_FAMILIES[0];
  for (const candidate of VERSION_FAMILIES) if (semver.gte(core, `${candidate}.0`)) family = candidate;
  return family;
}

/** True when `version` is at least `minimum` ("6.1.0"), ignoring Percona and pre-release suffixes. */
export function isAtLeast(version: MongoVersion, minimum: string): boolean {
  return semver.gte(version.core, minimum);
}
