// Renders binaries events on stderr: on a terminal one self-rewriting progress line (bytes, %, bar, rate,
// ETA); otherwise plain lines every 10 % (or every 5 s when the size is unknown); with --json one JSON object
// per event (download progress at most once a second) so scripts can follow along.
import type { BinaryEvent } from '../binaries/events.js';
import { colorsFor } from './colors.js';

export interface DownloadRendererOptions {
  json: boolean;
  /** Default: process.stderr.isTTY. */
  tty?: boolean;
  write?: (text: string) => void;
  now?: () => number;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function progressLine(event: Extract<BinaryEvent, { type: 'download-progress' }>): string {
  const total = event.totalBytes;
  const amount =
    total === undefined
      ? formatBytes(event.receivedBytes)
      : `${formatBytes(event.receivedBytes)} / ${formatBytes(total)}`;
  const percent =
    total === undefined || total === 0
      ? ''
      : ` ${String(Math.floor((event.receivedBytes / total) * 100)).padStart(3)}%`;
  const graphic = total === undefined || total === 0 ? '' : ` ${bar(event.receivedBytes / total)}`;
  const eta = event.etaSeconds === undefined ? '' : `  ETA ${formatDuration(event.etaSeconds)}`;
  return `  ${event.name}  ${amount}${percent}${graphic}  ${formatBytes(event.bytesPerSecond)}/s${eta}`;
}

export function createDownloadRenderer(options: DownloadRendererOptions): (event: BinaryEvent) => void {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const now = options.now ?? Date.now;
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const pc = colorsFor(tty);
  if (options.json) {
    let lastProgress = 0;
    return (event) => {
      if (event.type === 'download-progress') {
        const done = event.totalBytes !== undefined && event.receivedBytes >= event.totalBytes;
        if (!done && now() - lastProgress < 1000) return;
        lastProgress = now();
      }
      write(`${JSON.stringify({ event: event.type, ...event, at: new Date(now()).toISOString() })}\n`);
    };
  }
  let lineOpen = false;
  let lastDecile = -1;
  let lastPlain = 0;
  const line = (text: string) => {
    if (lineOpen) write('\n');
    lineOpen = false;
    write(`${text}\n`);
  };
  return (event) => {
    switch (event.type) {
      case 'release-list':
        if (event.from === 'stale-cache')
          line(
            `${pc.yellow('warning:')} using the cached release list (${event.reason ?? 'source unreachable'})`,
          );
        return;
      case 'resolved':
        line(`${pc.bold('▸')} ${event.variant} ${event.version} for ${event.target} (${event.arch})`);
        return;
      case 'cached':
        line(`  ${pc.green('✔')} ${event.package} is already installed`);
        return;
      case 'waiting-for-lock':
        line(`  ${pc.dim('…')} another mup process is installing ${event.package}; waiting for it`);
        return;
      case 'download-start':
        lastDecile = -1;
        lastPlain = now();
        line(
          `  downloading ${event.url}${event.totalBytes === undefined ? '' : ` (${formatBytes(event.totalBytes)})`}`,
        );
        return;
      case 'download-progress': {
        if (tty) {
          write(`\r\x1b[K${progressLine(event)}`);
          lineOpen = true;
          return;
        }
        const total = event.totalBytes;
        if (total !== undefined && total > 0) {
          const decile = Math.floor((event.receivedBytes / total) * 10);
          if (decile === lastDecile) return;
          lastDecile = decile;
        } else if (now() - lastPlain < 5000) return;
        lastPlain = now();
        line(progressLine(event));
        return;
      }
      case 'download-done':
        line(
          `  ${pc.green('✔')} downloaded ${formatBytes(event.receivedBytes)} in ${event.seconds.toFixed(1)}s`,
        );
        return;
      case 'verified':
        line(`  ${pc.green('✔')} sha256 ${event.sha256} verified`);
        return;
      case 'installed':
        line(`  ${pc.green('✔')} installed ${event.package} in ${event.dir}`);
        return;
    }
  };
}
