// Streams one archive from its URL, hashing it (sha256) and counting bytes on the way so verification costs
// no second read, either to a file (mirror) or straight into tar (install). Progress is reported as events
// at most every 100 ms (rate and ETA over the whole transfer).
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as tar from 'tar';
import { ArchiveLayoutError, ChecksumError } from './errors.js';
import { type BinaryEventListener, ignoreEvents } from './events.js';
import { asDownloadError, type OpenedStream, openUrl, truncatedError } from './http.js';

export interface DownloadOptions {
  timeoutMs?: number | undefined;
  /** Expected sha256 (hex); a mismatch throws ChecksumError after the transfer. */
  sha256?: string | undefined;
  /** Name shown in progress events and errors (the archive's file name). */
  name: string;
  onEvent?: BinaryEventListener | undefined;
  now?: () => number;
}

export interface DownloadResult {
  sha256: string;
  bytes: number;
}

/** Counts and hashes chunks and reports progress; `finish` checks length and checksum. */
class Meter {
  private readonly hash: Hash = createHash('sha256');
  private readonly started: number;
  private lastReport = 0;
  received = 0;

  constructor(
    private readonly url: string,
    private readonly total: number | undefined,
    private readonly options: DownloadOptions,
  ) {
    this.started = this.now();
    this.emit({ type: 'download-start', url, name: options.name, totalBytes: total });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private emit: BinaryEventListener = (event) => (this.options.onEvent ?? ignoreEvents)(event);

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.received += chunk.length;
    if (this.now() - this.lastReport >= 100) this.report();
  }

  private report(): void {
    this.lastReport = this.now();
    const seconds = Math.max((this.now() - this.started) / 1000, 0.001);
    const rate = this.received / seconds;
    this.emit({
      type: 'download-progress',
      name: this.options.name,
      receivedBytes: this.received,
      totalBytes: this.total,
      bytesPerSecond: rate,
      etaSeconds:
        this.total !== undefined && rate > 0 ? Math.max(0, (this.total - this.received) / rate) : undefined,
    });
  }

  finish(): DownloadResult {
    if (this.total !== undefined && this.received !== this.total)
      throw truncatedError(this.url, this.received, this.total);
    this.report();
    const seconds = (this.now() - this.started) / 1000;
    this.emit({ type: 'download-done', name: this.options.name, receivedBytes: this.received, seconds });
    const sha256 = this.hash.digest('hex');
    const expected = this.options.sha256?.toLowerCase();
    if (expected !== undefined) {
      if (sha256 !== expected) throw new ChecksumError(this.options.name, expected, sha256);
      this.emit({ type: 'verified', name: this.options.name, sha256 });
    }
    return { sha256, bytes: this.received };
  }
}

/** Writes `stream`'s chunks to `sink` with backpressure; stops writing (but keeps reading) after a sink error. */
async function pump(
  opened: OpenedStream,
  meter: Meter,
  write: (chunk: Buffer) => boolean | undefined,
  waitDrain: () => Promise<void>,
  sinkFailed: () => boolean,
  url: string,
): Promise<void> {
  try {
    for await (const chunk of opened.stream) {
      const buffer = chunk as Buffer;
      meter.update(buffer);
      if (!sinkFailed() && write(buffer) === false) await waitDrain();
    }
  } catch (error) {
    throw asDownloadError(error, url);
  }
}

export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const opened = await openUrl(url, { timeoutMs: options.timeoutMs });
  const meter = new Meter(url, opened.contentLength, options);
  const file = createWriteStream(dest, { highWaterMark: 1 << 20 });
  let fileError: Error | undefined;
  file.on('error', (error) => {
    fileError ??= error;
  });
  const drained = () =>
    new Promise<void>((resolve) => {
      file.once('drain', resolve);
      file.once('error', () => resolve());
    });
  try {
    await pump(
      opened,
      meter,
      (chunk) => file.write(chunk),
      drained,
      () => fileError !== undefined,
      url,
    );
  } finally {
    await new Promise<void>((resolve) => file.end(() => resolve()));
  }
  if (fileError) throw fileError;
  return meter.finish();
}

/**
 * Downloads a .tgz and unpacks it into `dest` (dropping the archive's top folder) in one pass: tar works
 * while bytes arrive, so install time is close to the longer of the two rather than their sum. `dest` must
 * be private staging: the content is unverified until this resolves, and the caller publishes it only then.
 * tar refuses entries escaping `dest` (absolute paths, .., links out of the tree) by default. A checksum or
 * transfer failure wins over an extraction failure, since a corrupt download is the likelier cause.
 */
export async function downloadAndUnpack(
  url: string,
  dest: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  await mkdir(dest, { recursive: true });
  const opened = await openUrl(url, { timeoutMs: options.timeoutMs });
  const meter = new Meter(url, opened.contentLength, options);
  let unpackError: Error | undefined;
  // Set once tar fails: a damaged gzip stream is reported as a warning and tar then emits neither 'drain'
  // nor 'close', so every wait below also ends on this signal (otherwise nothing keeps Node alive and the
  // process exits 0 with nothing installed).
  let signalFailure: () => void = () => {};
  const failed = new Promise<void>((resolve) => {
    signalFailure = resolve;
  });
  const fail = (error: Error) => {
    unpackError ??= error;
    signalFailure();
  };
  // Not strict (harmless warnings stay warnings), but a damaged archive or an entry that cannot be written
  // is a failure.
  const unpack = tar.extract({
    cwd: dest,
    strip: 1,
    onwarn: (code, message) => {
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT' || code === 'TAR_ENTRY_ERROR')
        fail(new Error(message));
    },
  });
  const closed = new Promise<void>((resolve) => {
    unpack.on('close', () => resolve());
    unpack.on('error', (error: Error) => {
      fail(error);
      resolve();
    });
    void failed.then(resolve);
  });
  const drained = () =>
    new Promise<void>((resolve) => {
      unpack.once('drain', () => resolve());
      unpack.once('error', () => resolve());
      void failed.then(resolve);
    });
  try {
    await pump(
      opened,
      meter,
      (chunk) => unpack.write(chunk),
      drained,
      () => unpackError !== undefined,
      url,
    );
  } catch (error) {
    // Stop tar and let it settle before the caller deletes the staging directory under it.
    unpack.abort(error as Error);
    await settled(closed, 5_000);
    throw error;
  }
  unpack.end();
  await settled(closed, 60_000);
  const result = meter.finish();
  if (unpackError)
    throw new ArchiveLayoutError(`cannot extract ${options.name}: ${(unpackError as Error).message}`);
  return result;
}

/** Waits for `promise`, but never longer than `ms` (a stuck stream must not hang the install). */
async function settled(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
