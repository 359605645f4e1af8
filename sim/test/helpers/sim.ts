// Test harness for the simulator: wrappers in a temp bin dir (sim/src/install.ts), loopback ports from the
// tests' port registry (./ports.ts), processes started exactly as supervisord or a user would start them, and cleanup by known pid.
// The simulator runs from dist/: run `npm run build` before these tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simEntryPoint, writeSimBinaries } from '../../src/install.js';
import { freePort } from './ports.js';

export { freePort, simEntryPoint };

const created: string[] = [];

/** A new temp directory, removed when the test process exits (unless MUP_KEEP_TEST_DIRS=1). */
export async function tempDir(prefix = 'mup-sim-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (created.length === 0 && process.env.MUP_KEEP_TEST_DIRS !== '1')
    process.once('exit', () => {
      for (const d of created) rmSync(d, { recursive: true, force: true });
    });
  created.push(dir);
  return dir;
}

/** A bin dir holding mongod/mongos wrappers for `version`. */
export async function simBin(version: string, root?: string): Promise<string> {
  const dir = join(root ?? (await tempDir('mup-sim-bin-')), `bin-${version}`);
  await writeSimBinaries(dir, version);
  return dir;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a wrapper to completion (for --version, bad options, startup failures). Bounded by timeoutMs. */
export function runToExit(
  binary: string,
  args: string[],
  timeoutMs = 15_000,
  env: Record<string, string> = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${binary} ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain before resolving.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

export interface SimProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** Everything written to stdout so far. */
  output(): string;
  /** Resolves with the exit code/signal (bounded). */
  waitExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Kills every process started through startSim that is still alive (use in `after`). */
export async function killAll(): Promise<void> {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.clear();
}

/** A process ended before it was ready; exitCode tells why (48: its port was taken meanwhile). */
export class StartError extends Error {
  readonly exitCode: number | null;
  constructor(message: string, exitCode: number | null) {
    super(message);
    this.name = 'StartError';
    this.exitCode = exitCode;
  }
}

const READY = /"id":23016|waiting for connections on port/;

/**
 * Starts `binary` with args and resolves once it logs readiness to stdout (no --logpath) or, when
 * `logFile` is given, to that file. Rejects if it exits first or takes longer than timeoutMs.
 */
export async function startSim(
  binary: string,
  args: string[],
  opts: { port: number; logFile?: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<SimProcess> {
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  running.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  // A bound, not a speed check: a fixture starting eight members on a loaded 2-core machine can take
  // well over 15 s to see them all listening.
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (;;) {
    const text = opts.logFile ? (existsSync(opts.logFile) ? await readFile(opts.logFile, 'utf8') : '') : out;
    if (READY.test(text)) break;
    if (done) throw new StartError(`${binary} exited before it was ready:\n${out}\n${text}`, child.exitCode);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${binary} was not ready in time:\n${out}\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // A bound on a clean exit, generous for a loaded machine; tests about shutdown timing pass their own.
  const waitExit = async (timeoutMs = 60_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    child,
    pid: child.pid as number,
    port: opts.port,
    output: () => out,
    waitExit,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return waitExit();
    },
  };
}

/** Starts a standalone mongod on a fresh port with the given dbPath (created when missing). */
export async function startMongod(
  bin: string,
  dbPath: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<SimProcess> {
  await mkdir(dbPath, { recursive: true });
  // A free port can be taken (e.g. as the local port of another test's connection) before the server
  // binds it; exit 48 then means "pick another", not a failure of the code under test.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startSim(join(bin, 'mongod'), ['--port', String(port), '--dbpath', dbPath, ...extraArgs], {
        port,
        env,
      });
    } catch (err) {
      if (!(err instanceof StartError && err.exitCode === 48 && attempt < 3)) throw err;
    }
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms until it returns true or timeoutMs passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The shutdown timeout the sim tests give 5.0+ servers whose stop is not the subject of the test. */
export const TEST_SHUTDOWN_TIMEOUT_MS = 100;

/**
 * `--setParameter` arguments that keep SIGTERM quick on 5.0+, exactly as MongoDB's own test harness does
 * (shutdownTimeoutMillisForSignaledShutdown=100): otherwise a stopped secondary or mongos stays in quiesce
 * mode for 15 s. Earlier versions do not know the parameter (startup would fail), so they get nothing.
 */
export function quickShutdownArgs(version: string, program: 'mongod' | 'mongos' = 'mongod'): string[] {
  const major = Number.parseInt(version.split('.')[0] ?? '0', 10);
  if (!(major >= 5)) return [];
  const name =
    program === 'mongos'
      ? 'mongosShutdownTimeoutMillisForSignaledShutdown'
      : 'shutdownTimeoutMillisForSignaledShutdown';
  return ['--setParameter', `${name}=${TEST_SHUTDOWN_TIMEOUT_MS}`];
}

/** One version per supported release series (the latest patches the reference describes). */
export const VERSION_FAMILIES = [
  '3.6.23',
  '4.0.28',
  '4.2.25',
  '4.4.29',
  '5.0.28',
  '6.0.16',
  '7.0.14',
  '8.0.3',
] as const;
