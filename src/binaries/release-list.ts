// The release list in the shape of MongoDB's https://downloads.mongodb.org/full.json:
//   { versions: [ { version, production_release, release_candidate, ..., downloads: [
//       { target, arch, edition, archive: { url, sha256, sha1, debug_symbols } }, ... ] } ] }
// Only the fields mup uses are checked; every other field is kept as is so a mirror's copy stays faithful.
import { z } from 'zod';
import { ReleaseListError } from './errors.js';

const archiveSchema = z.looseObject({
  url: z.string().min(1),
  sha256: z.string().optional(),
  sha1: z.string().optional(),
});

const downloadSchema = z.looseObject({
  target: z.string().optional(),
  arch: z.string().optional(),
  edition: z.string().optional(),
  archive: archiveSchema.optional(),
});

const versionSchema = z.looseObject({
  version: z.string().min(1),
  production_release: z.boolean().optional(),
  release_candidate: z.boolean().optional(),
  development_release: z.boolean().optional(),
  continuous_release: z.boolean().optional(),
  downloads: z.array(downloadSchema).default([]),
});

const releaseListSchema = z.looseObject({ versions: z.array(versionSchema) });

export type ReleaseArchive = z.infer<typeof archiveSchema>;
export type ReleaseDownload = z.infer<typeof downloadSchema>;
export type ReleaseVersion = z.infer<typeof versionSchema>;
export type ReleaseList = z.infer<typeof releaseListSchema>;

export function parseReleaseList(text: string, origin: string): ReleaseList {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ReleaseListError(`the release list from ${origin} is not valid JSON`, undefined, error);
  }
  const parsed = releaseListSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem';
    throw new ReleaseListError(
      `the release list from ${origin} is not in the full.json format (${where})`,
      'a release list needs versions[] with version and downloads[] → {target, arch, edition, archive{url, sha256}}',
    );
  }
  return parsed.data;
}

/** Architecture names as the release lists spell them, normalized (x64/amd64 → x86_64, arm64 → aarch64). */
export type Arch = 'x86_64' | 'aarch64';

export function normalizeArch(name: string): Arch | undefined {
  const lower = name.toLowerCase();
  if (lower === 'x86_64' || lower === 'x64' || lower === 'amd64') return 'x86_64';
  if (lower === 'aarch64' || lower === 'arm64') return 'aarch64';
  return undefined;
}

/** A download's architecture: its `arch` field, else read from the archive name (older entries lack it). */
export function downloadArch(download: ReleaseDownload): Arch | undefined {
  if (download.arch) return normalizeArch(download.arch);
  const name = download.archive?.url ?? '';
  if (/[-_.](aarch64|arm64)[-_.]/.test(name)) return 'aarch64';
  if (/[-_.](x86_64|x64|amd64)[-_.]/.test(name)) return 'x86_64';
  return undefined;
}

/** The file name at the end of an archive URL. */
export function archiveFileName(url: string): string {
  const path = url.split(/[?#]/)[0] ?? url;
  return path.slice(path.lastIndexOf('/') + 1);
}
