// Where release lists and archives come from: the vendor's download host, or a mirror (a base URL or a local
// directory) holding the same files at the same relative paths. Archive URLs in a mirror's list may be
// relative to the mirror or absolute; absolute URLs on the vendor's host are rewritten to the mirror.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';

export type Variant = 'mongodb' | 'percona';
export const variants: readonly Variant[] = ['mongodb', 'percona'];

export interface ReleaseSource {
  variant: Variant;
  kind: 'official' | 'mirror';
  /** Base URL (http(s) or file), ending in '/'. */
  base: string;
  /** URL of the release list, or undefined when the source publishes none (Percona's own host). */
  listUrl: string | undefined;
  /** Human description for messages. */
  describe: string;
}

/** MongoDB's list; archives live on fastdl.mongodb.org (downloads.mongodb.org serves the same paths). */
export const mongodbListUrl = 'https://downloads.mongodb.org/full.json';
export const mongodbArchiveHosts = ['fastdl.mongodb.org', 'downloads.mongodb.org'];
/** Percona's tarballs: <base>percona-server-mongodb-<x.y>/percona-server-mongodb-<ver>/binary/tarball/<file>. */
export const perconaBase = 'https://downloads.percona.com/downloads/';
export const perconaArchiveHosts = ['downloads.percona.com', 'www.percona.com'];
/** A mirror's release list file per variant (Percona publishes no list; `mup mirror` writes one). */
export const mirrorListFile: Record<Variant, string> = { mongodb: 'full.json', percona: 'percona.json' };

/** `mirror` is a URL or a directory (from --mirror or MUP_MIRROR); undefined means the vendor's host. */
export function resolveSource(
  variant: Variant,
  mirror: string | undefined,
  cwd = process.cwd(),
): ReleaseSource {
  if (mirror === undefined || mirror.trim() === '') {
    return variant === 'mongodb'
      ? {
          variant,
          kind: 'official',
          base: 'https://fastdl.mongodb.org/',
          listUrl: mongodbListUrl,
          describe: 'downloads.mongodb.org',
        }
      : {
          variant,
          kind: 'official',
          base: perconaBase,
          listUrl: undefined,
          describe: 'downloads.percona.com',
        };
  }
  const base = mirrorBase(mirror, cwd);
  return {
    variant,
    kind: 'mirror',
    base,
    listUrl: new URL(mirrorListFile[variant], base).href,
    describe: mirror,
  };
}

export function mirrorBase(mirror: string, cwd = process.cwd()): string {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror);
  const href = isUrl ? mirror : pathToFileURL(isAbsolute(mirror) ? mirror : resolve(cwd, mirror)).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** The URL to fetch for an archive URL found in the source's release list. */
export function archiveUrlFor(source: ReleaseSource, listedUrl: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(listedUrl);
  if (!absolute) return new URL(listedUrl.replace(/^\/+/, ''), source.base).href;
  if (source.kind === 'official') return listedUrl;
  const relative = relativeOnVendorHost(source.variant, listedUrl);
  return relative === undefined ? listedUrl : new URL(relative, source.base).href;
}

/**
 * The path of a vendor archive relative to the download root, e.g.
 * https://fastdl.mongodb.org/linux/x.tgz → linux/x.tgz. Undefined for URLs on other hosts.
 */
export function relativeOnVendorHost(variant: Variant, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+/, '');
  if (variant === 'mongodb') return mongodbArchiveHosts.includes(parsed.hostname) ? path : undefined;
  if (!perconaArchiveHosts.includes(parsed.hostname)) return undefined;
  return path.startsWith('downloads/') ? path.slice('downloads/'.length) : path;
}

/**
 * Refuses a mirror that can never work (unsupported scheme, missing dir, a file), before the cache is
 * consulted: a typo in --mirror must not go unnoticed just because the version happens to be cached.
 */
export function checkMirror(mirror: string | undefined, cwd = process.cwd()): void {
  if (mirror === undefined || mirror.trim() === '') return;
  const hint = 'give an http(s) URL or a directory made by `mup mirror` (or unset MUP_MIRROR)';
  const base = mirrorBase(mirror, cwd);
  const scheme = new URL(base).protocol;
  if (scheme === 'http:' || scheme === 'https:') return;
  if (scheme !== 'file:') throw new UsageError(`mirror ${mirror}: ${scheme} URLs are not supported`, hint);
  const dir = fileURLToPath(base).replace(/(.)\/+$/, '$1');
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`mirror ${mirror}: no such directory`, hint);
  }
  if (!isDir) throw new UsageError(`mirror ${mirror}: is a file, not a directory`, hint);
}
