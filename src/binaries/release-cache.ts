// Loads a source's release list, cached in $MUP_HOME/storage/ for 24 h: the official list as
// releases.json, a mirror's under a name derived from its URL. When the network fails, an older cached copy
// is used (offline once cached). Lists in a local mirror directory are read directly and never cached.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { DownloadError, ReleaseListError } from './errors.js';
import { type BinaryEventListener, ignoreEvents } from './events.js';
import { fetchText } from './http.js';
import { parseReleaseList, type ReleaseList } from './release-list.js';
import { mongodbListUrl, type ReleaseSource } from './source.js';

export const releaseListMaxAgeMs = 24 * 60 * 60 * 1000;

export interface LoadListOptions {
  home: string;
  source: ReleaseSource;
  timeoutMs?: number | undefined;
  onEvent?: BinaryEventListener | undefined;
  now?: () => number;
  /** Ignore a fresh cache and fetch again. */
  refresh?: boolean;
  maxAgeMs?: number;
}

interface CacheFile {
  schema: 1;
  url: string;
  fetchedAt: string;
  list: ReleaseList;
}

export function releaseCachePath(home: string, listUrl: string): string {
  const name =
    listUrl === mongodbListUrl
      ? 'releases.json'
      : `releases-${createHash('sha256').update(listUrl).digest('hex').slice(0, 16)}.json`;
  return join(home, 'storage', name);
}

async function readCache(path: string, url: string): Promise<CacheFile | undefined> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
    if (data.schema !== 1 || data.url !== url || !Array.isArray(data.list?.versions)) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

/** The source's release list, or undefined when the source publishes none (Percona's own host). */
export async function loadReleaseList(options: LoadListOptions): Promise<ReleaseList | undefined> {
  const { source, home } = options;
  const url = source.listUrl;
  if (url === undefined) return undefined;
  const onEvent = options.onEvent ?? ignoreEvents;
  if (url.startsWith('file:')) {
    const text = await fetchText(url).catch((error: unknown) => {
      throw new ReleaseListError(
        `the mirror ${source.describe} has no readable release list (${url})`,
        'build the mirror with `mup mirror <dir> --version ...`',
        error,
      );
    });
    onEvent({ type: 'release-list', source: url, from: 'file' });
    return parseReleaseList(text, url);
  }
  const now = options.now ?? Date.now;
  const path = releaseCachePath(home, url);
  const cached = await readCache(path, url);
  const age = cached ? now() - Date.parse(cached.fetchedAt) : Number.POSITIVE_INFINITY;
  if (cached && !options.refresh && age >= 0 && age < (options.maxAgeMs ?? releaseListMaxAgeMs)) {
    onEvent({ type: 'release-list', source: url, from: 'cache' });
    return cached.list;
  }
  let text: string;
  try {
    text = await fetchText(url, { timeoutMs: options.timeoutMs });
  } catch (error) {
    if (cached) {
      const reason = error instanceof Error ? error.message : String(error);
      onEvent({ type: 'release-list', source: url, from: 'stale-cache', reason });
      return cached.list;
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new ReleaseListError(
      `cannot fetch the release list from ${url}: ${message}`,
      'check the network, or point --mirror / MUP_MIRROR at an offline mirror',
      error instanceof DownloadError ? error : undefined,
    );
  }
  const list = parseReleaseList(text, url);
  await mkdir(join(home, 'storage'), { recursive: true });
  const file: CacheFile = { schema: 1, url, fetchedAt: new Date(now()).toISOString(), list };
  await writeFileAtomic(path, JSON.stringify(file));
  onEvent({ type: 'release-list', source: url, from: 'network' });
  return list;
}
