// Shared pieces of the benchmarks: timing and medians, child processes with a deadline, a scratch
// environment (MUP_HOME, HOME, simulated binaries) that runs the built CLI, free loopback ports, RSS.
// Every resource made here is released by `BenchEnv.cleanup()`: deployed clusters are destroyed through
// mup, processes started directly are killed by pid, temp dirs are removed.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Document, MongoClient } from 'mongodb';
import { writeSimBinaries } from '../sim/src/install.js';
import { pollUntil, sleep } from '../src/mongo/connect.js';
import { mupBin, tempDir } from '../test/helpers/cli.js';

export { pollUntil, sleep };

export const SIM_VERSION = '7.0.14';

/** mup refuses to run mongod/mongos as root without --allow-root: a benchmark run by root passes it. */
export const ALLOW_ROOT: readonly string[] = process.getuid?.() === 0 ? ['--allow-root'] : [];

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a command to completion; rejects on a non-zero exit or after the deadline (the child is killed). */
export function exec(
  command: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timeoutMs = options.timeoutMs ?? 300_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} ${signal ? `killed (${signal}, deadline ${timeoutMs} ms)` : `exited ${code}`}\n${stderr.slice(-1500)}`,
          ),
        );
    });
  });
}

/** Seconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * One hello on a fresh direct connection (as mup's own readiness probe does). A client is never reused
 * across polls: one whose first connection was refused may keep failing after the server is up.
 */
export async function helloOnce(port: number, timeoutMs = 2000): Promise<Document> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    return await client.db('admin').command({ hello: 1 });
  } finally {
    await client.close(true);
  }
}

/** One line of the final table. `ratio` is mup / baseline (or measured / reference, as `baseline` says). */
export interface Row {
  bench: string;
  metric: string;
  value: string;
  baseline: string;
  ratio?: number | undefined;
  target?: string | undefined;
  note?: string | undefined;
}

export function secs(x: number): string {
  return `${x.toFixed(2)} s`;
}

export function ms(x: number): string {
  return `${x.toFixed(0)} ms`;
}

export function runsText(xs: readonly number[], unit: 's' | 'ms' = 's'): string {
  return xs.map((x) => (unit === 's' ? x.toFixed(2) : x.toFixed(0))).join(' ');
}

/** Progress for the reader of a long run; on stderr so stdout keeps only the tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** True when a TCP listener can bind 127.0.0.1:port right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports at or above `from` (bounded scan). */
export async function freePortRange(from: number, count: number): Promise<number> {
  for (let base = from; base < from + 2000; base += count) {
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports in ${from}..${from + 2000}`);
}

/** Resident set size of a pid in MiB (0 when it is gone). */
export async function rssMb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface BenchEnv {
  root: string;
  home: string;
  userHome: string;
  binDir: string;
  /** The environment the CLI runs in (MUP_HOME, HOME), for running another build of it. */
  env: NodeJS.ProcessEnv;
  /** Runs the built CLI in this environment; rejects unless it exits 0. */
  mup(args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** Runs the CLI with --json and parses stdout. */
  mupJson<T>(args: readonly string[], timeoutMs?: number): Promise<T>;
  /** Remember a cluster to destroy at cleanup (deploy registers it before running). */
  track(cluster: string): void;
  untrack(cluster: string): void;
  /** A pid started outside mup (baselines), killed at cleanup if still alive. */
  trackPid(pid: number): void;
  cleanup(): Promise<void>;
}

export async function benchEnv(prefix: string): Promise<BenchEnv> {
  const root = await tempDir(`mup-bench-${prefix}-`);
  const home = join(root, 'home');
  const userHome = join(root, 'user');
  const binDir = join(root, 'bin');
  await writeSimBinaries(binDir, SIM_VERSION);
  const clusters = new Set<string>();
  const pids = new Set<number>();
  const env = { ...process.env, NO_COLOR: '1', MUP_HOME: home, HOME: userHome };
  const mup = (args: readonly string[], timeoutMs = 600_000) =>
    exec(process.execPath, [mupBin, ...args], { env, timeoutMs });
  return {
    root,
    home,
    userHome,
    binDir,
    env,
    mup,
    mupJson: async <T>(args: readonly string[], timeoutMs?: number) =>
      JSON.parse((await mup([...args, '--json'], timeoutMs)).stdout) as T,
    track: (c) => clusters.add(c),
    untrack: (c) => clusters.delete(c),
    trackPid: (p) => pids.add(p),
    cleanup: async () => {
      for (const cluster of clusters) {
        await mup(['cluster', 'destroy', cluster, '--yes'], 300_000).catch((error: unknown) =>
          progress(`cleanup: destroy ${cluster} failed: ${String(error)}`),
        );
      }
      clusters.clear();
      for (const pid of pids) {
        if (!pidAlive(pid)) continue;
        process.kill(pid, 'SIGTERM');
        await pollUntil(async () => (pidAlive(pid) ? undefined : true), 10_000, 100);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      pids.clear();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Prints rows as one aligned table. */
export function renderRows(rows: readonly Row[]): string {
  const header: Row = {
    bench: 'benchmark',
    metric: 'metric',
    value: 'mup / measured',
    baseline: 'baseline / reference',
  };
  const cells = [header, ...rows].map((r, i) => [
    r.bench,
    r.metric,
    r.value,
    r.baseline,
    i === 0 ? 'ratio' : r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    i === 0 ? 'target' : (r.target ?? ''),
    i === 0 ? 'note' : (r.note ?? ''),
  ]);
  const widths = cells[0]?.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length))) ?? [];
  return cells
    .map((row, i) => {
      const line = row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** True when this module is the script node was asked to run (so each benchmark also runs alone). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && new URL(metaUrl).pathname === entry;
}
