// Opens a byte stream for an http(s) or file URL with a per-request inactivity timeout, so a server that
// accepts the connection and then hangs fails instead of blocking forever. Redirects are followed (the
// official download host answers some paths with a redirect to its CDN).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DownloadError } from './errors.js';

export const defaultRequestTimeoutMs = 30_000;

export interface OpenedStream {
  stream: Readable;
  /** From Content-Length or the file size; undefined when the server does not say. */
  contentLength: number | undefined;
  /** The URL finally read, after redirects. */
  url: string;
}

export interface OpenOptions {
  /** Fails when no byte arrives for this long (headers or body). */
  timeoutMs?: number;
  maxRedirects?: number;
}

export async function openUrl(url: string, options: OpenOptions = {}): Promise<OpenedStream> {
  const parsed = parseUrl(url);
  if (parsed.protocol === 'file:') return openFile(parsed);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new DownloadError(`unsupported URL scheme ${parsed.protocol} in ${url}`, url, {
      hint: 'use an http(s) URL or a local directory',
    });
  return openHttp(parsed, options.timeoutMs ?? defaultRequestTimeoutMs, options.maxRedirects ?? 5);
}

/** Reads a whole (small) resource as text: release lists and checksum files. */
export async function fetchText(url: string, options: OpenOptions = {}): Promise<string> {
  const opened = await openUrl(url, options);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of opened.stream) {
      const buffer = chunk as Buffer;
      chunks.push(buffer);
      received += buffer.length;
    }
  } catch (error) {
    throw asDownloadError(error, url);
  }
  if (opened.contentLength !== undefined && received !== opened.contentLength)
    throw truncatedError(url, received, opened.contentLength);
  return Buffer.concat(chunks).toString('utf8');
}

export function truncatedError(url: string, received: number, expected: number): DownloadError {
  return new DownloadError(
    `download of ${url} was cut short: received ${received} of ${expected} bytes`,
    url,
  );
}

/** Maps low-level stream errors (reset, aborted, timeout) to one DownloadError naming the URL. */
export function asDownloadError(error: unknown, url: string): DownloadError {
  if (error instanceof DownloadError) return error;
  const err = error as NodeJS.ErrnoException;
  const reason =
    err.code === 'ECONNRESET' || err.message === 'aborted' ? 'connection closed early' : err.message;
  return new DownloadError(`download of ${url} failed: ${reason}`, url, { cause: error });
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (error) {
    throw new DownloadError(`not a valid URL: ${url}`, url, { cause: error });
  }
}

async function openFile(url: URL): Promise<OpenedStream> {
  const path = fileURLToPath(url);
  try {
    const info = await stat(path);
    return {
      stream: createReadStream(path, { highWaterMark: 1 << 20 }),
      contentLength: info.size,
      url: url.href,
    };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DownloadError(missing ? `not found: ${path}` : `cannot read ${path}`, url.href, {
      hint: missing
        ? 'the mirror directory does not hold this file; rebuild it with `mup mirror`'
        : undefined,
      cause: error,
    });
  }
}

function openHttp(url: URL, timeoutMs: number, redirectsLeft: number): Promise<OpenedStream> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    // agent: false → no keep-alive socket lingers after the download and keeps the process alive.
    const request = client.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      response = res;
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new DownloadError(`too many redirects fetching ${url.href}`, url.href));
          return;
        }
        const next = new URL(res.headers.location, url);
        openHttp(next, timeoutMs, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(
          new DownloadError(
            status === 404 ? `not found (HTTP 404): ${url.href}` : `HTTP ${status} fetching ${url.href}`,
            url.href,
            status === 404 ? { hint: 'the version or archive does not exist at this source or mirror' } : {},
          ),
        );
        return;
      }
      const length = res.headers['content-length'];
      resolve({
        stream: res,
        contentLength: length === undefined ? undefined : Number(length),
        url: url.href,
      });
    });
    request.on('timeout', () => {
      const error = new DownloadError(
        `no data from ${url.host} for ${timeoutMs} ms while fetching ${url.href}`,
        url.href,
        { hint: 'the server is not answering; check the network or the mirror and retry' },
      );
      if (response) response.destroy(error);
      request.destroy(error);
    });
    request.on('error', (error) => reject(asDownloadError(error, url.href)));
  });
}
