// Streams one archive to a file, hashing it (sha256) and counting bytes on the way, so verification costs no
// second read. Progress is reported as events at most every 100 ms (rate and ETA over the whole transfer).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChecksumError } from './errors.js';
import { type BinaryEventListener, ignoreEvents } from './events.js';
import { asDownloadError, openUrl, truncatedError } from './http.js';

export interface DownloadOptions {
  timeoutMs?: number;
  /** Expected sha256 (hex); a mismatch throws ChecksumError after the transfer. */
  sha256?: string | undefined;
  /** Name shown in progress events and errors (the archive's file name). */
  name: string;
  onEvent?: BinaryEventListener;
  now?: () => number;
}

export interface DownloadResult {
  sha256: string;
  bytes: number;
}

export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const onEvent = options.onEvent ?? ignoreEvents;
  const now = options.now ?? Date.now;
  const opened = await openUrl(url, { timeoutMs: options.timeoutMs });
  const total = opened.contentLength;
  const hash = createHash('sha256');
  const started = now();
  let received = 0;
  let lastReport = 0;
  const report = () => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = received / seconds;
    onEvent({
      type: 'download-progress',
      name: options.name,
      receivedBytes: received,
      totalBytes: total,
      bytesPerSecond: rate,
      etaSeconds: total !== undefined && rate > 0 ? Math.max(0, (total - received) / rate) : undefined,
    });
  };
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      const at = now();
      if (at - lastReport >= 100) {
        lastReport = at;
        report();
      }
      callback(null, chunk);
    },
  });
  onEvent({ type: 'download-start', url, name: options.name, totalBytes: total });
  try {
    await pipeline(opened.stream, meter, createWriteStream(dest, { highWaterMark: 1 << 20 }));
  } catch (error) {
    throw asDownloadError(error, url);
  }
  if (total !== undefined && received !== total) throw truncatedError(url, received, total);
  report();
  onEvent({
    type: 'download-done',
    name: options.name,
    receivedBytes: received,
    seconds: (now() - started) / 1000,
  });
  const sha256 = hash.digest('hex');
  if (options.sha256 !== undefined) {
    if (sha256 !== options.sha256.toLowerCase())
      throw new ChecksumError(options.name, options.sha256, sha256);
    onEvent({ type: 'verified', name: options.name, sha256 });
  }
  return { sha256, bytes: received };
}
