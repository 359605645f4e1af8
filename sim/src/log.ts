// mongod's log: plain text lines up to 4.2, one JSON object per line from 4.4 (logv2).
// Source: reference/mongod-behavior.md §5.6 (formats, ids), §5.1 (logAppend rename), §2.7 (getLog).
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { EJSON } from 'bson';
import { atLeast, usesJsonLogs, type VersionInfo } from './version.js';

export type Severity = 'F' | 'E' | 'W' | 'I' | 'D1' | 'D2';

export interface LogEntry {
  readonly s: Severity;
  /** Component: CONTROL, NETWORK, STORAGE, REPL, ELECTION, SHARDING, COMMAND, ACCESS, ... */
  readonly c: string;
  readonly id: number;
  /** Thread name: main, initandlisten, listener, conn12, SignalHandler, ... */
  readonly ctx: string;
  readonly msg: string;
  readonly attr?: Record<string, unknown>;
  /** Pre-4.4 wording of the same event when it differs from msg (the text logs had no attr). */
  readonly text?: string;
  readonly tags?: string[];
}

export interface LoggerOptions {
  readonly version: VersionInfo;
  /** systemLog.path; undefined = stdout. */
  readonly path?: string;
  readonly append: boolean;
  /** systemLog.timeStampFormat: iso8601-local (default) or iso8601-utc. */
  readonly utc?: boolean;
  /** systemLog.logRotate: 'rename' (default) or 'reopen' (another tool already moved the file). */
  readonly rotate?: 'rename' | 'reopen';
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ISO-8601 with milliseconds: "+HH:MM" offset in JSON logs, "+HHMM" in text logs, or "Z" for utc. */
export function formatTimestamp(d: Date, utc: boolean, colon: boolean): string {
  if (utc) return d.toISOString();
  const offMin = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offMin * 60_000).toISOString().slice(0, 23);
  const sign = offMin >= 0 ? '+' : '-';
  const abs = Math.abs(offMin);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}${colon ? ':' : ''}${pad2(abs % 60)}`;
}

/** "<path>.2024-07-24T10-00-00": the suffix mongod gives renamed and rotated log files. */
function rotationSuffix(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/:/g, '-');
}

export class Logger {
  private fd: number;
  private readonly opts: LoggerOptions;
  private readonly recent: string[] = [];
  private readonly warnings: string[] = [];
  private totalLines = 0;

  /** Opens the log destination; throws the fs error when the path cannot be opened (exit 1 territory). */
  constructor(opts: LoggerOptions) {
    this.opts = opts;
    this.fd = 1;
    if (opts.path) {
      let renamedTo: string | undefined;
      if (!opts.append && existsSync(opts.path)) {
        renamedTo = `${opts.path}.${rotationSuffix(new Date())}`;
        renameSync(opts.path, renamedTo);
      }
      this.fd = openSync(opts.path, 'a');
      if (renamedTo) {
        this.write({
          s: 'I',
          c: 'CONTROL',
          id: 20697,
          ctx: 'main',
          msg: 'Renamed existing log file',
          attr: { oldLogPath: opts.path, newLogPath: renamedTo },
          text: `log file "${opts.path}" exists; moved to "${renamedTo}".`,
        });
      }
    }
  }

  get json(): boolean {
    return usesJsonLogs(this.opts.version);
  }

  format(e: LogEntry, when = new Date()): string {
    if (this.json) {
      const t = JSON.stringify({ $date: formatTimestamp(when, this.opts.utc ?? false, true) });
      // mongod pads the s, c and id fields for alignment (§5.6).
      const s = `"s":${JSON.stringify(e.s)},`.padEnd(10);
      const c = `"c":${JSON.stringify(e.c)},`.padEnd(16);
      const id = `"id":${e.id},`.padEnd(14);
      let line = `{"t":${t},${s}${c}${id}"ctx":${JSON.stringify(e.ctx)},"msg":${JSON.stringify(e.msg)}`;
      if (e.attr) line += `,"attr":${EJSON.stringify(e.attr, { relaxed: true })}`;
      if (e.tags) line += `,"tags":${JSON.stringify(e.tags)}`;
      return `${line}}`;
    }
    // 4.2 pads the severity to two characters ("I  CONTROL  [main]"), earlier versions do not.
    const sev = atLeast(this.opts.version, 4, 2) ? e.s.padEnd(2) : e.s;
    const ts = formatTimestamp(when, this.opts.utc ?? false, false);
    return `${ts} ${sev} ${e.c.padEnd(8)} [${e.ctx}] ${e.text ?? e.msg}`;
  }

  write(e: LogEntry): void {
    const line = this.format(e);
    this.totalLines++;
    this.recent.push(line);
    if (this.recent.length > 1024) this.recent.shift();
    if (e.tags?.includes('startupWarnings')) this.warnings.push(line);
    try {
      writeSync(this.fd, `${line}\n`);
    } catch {
      // A vanished stdout or full disk must not take the server down; mongod keeps running too.
    }
  }

  info(c: string, id: number, ctx: string, msg: string, attr?: Record<string, unknown>, text?: string): void {
    this.write({ s: 'I', c, id, ctx, msg, ...(attr ? { attr } : {}), ...(text ? { text } : {}) });
  }

  warn(c: string, id: number, ctx: string, msg: string, attr?: Record<string, unknown>, text?: string): void {
    this.write({ s: 'W', c, id, ctx, msg, ...(attr ? { attr } : {}), ...(text ? { text } : {}) });
  }

  /** A warning also listed by getLog:'startupWarnings'; multi-line text becomes one line each (text logs). */
  startupWarning(c: string, id: number, msg: string, text?: string): void {
    const lines = !this.json && text ? text.split('\n') : [text];
    for (const line of lines) {
      this.write({
        s: 'W',
        c,
        id,
        ctx: 'initandlisten',
        msg,
        tags: ['startupWarnings'],
        ...(line ? { text: line } : {}),
      });
    }
  }

  getLog(name: 'global' | 'startupWarnings'): { totalLinesWritten: number; log: string[] } {
    if (name === 'startupWarnings')
      return { totalLinesWritten: this.warnings.length, log: [...this.warnings] };
    return { totalLinesWritten: this.totalLines, log: [...this.recent] };
  }

  /** logRotate / SIGUSR1: rename the file to <path>.<timestamp> and start a new one, or just reopen it. */
  rotate(): void {
    if (!this.opts.path) return;
    let target: string | undefined;
    if (this.opts.rotate !== 'reopen') {
      target = `${this.opts.path}.${rotationSuffix(new Date())}`;
      renameSync(this.opts.path, target);
    }
    const old = this.fd;
    this.fd = openSync(this.opts.path, 'a');
    closeSync(old);
    this.info('CONTROL', 23416, 'conn', 'Log rotation initiated', target ? { oldLogPath: target } : {});
  }

  close(): void {
    if (this.fd > 2) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = 1;
    }
  }
}
