// The Executor for the machine mup runs on: child processes, the file system and loopback port probes.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants, homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { CommandTimeoutError, UploadVerificationError } from './errors.js';
import type {
  Executor,
  ForwardedPort,
  PathStat,
  RunOptions,
  RunResult,
  UploadOptions,
  UploadResult,
} from './executor.js';

export class LocalExecutor implements Executor {
  readonly host: string;
  readonly local = true;

  constructor(host = 'localhost') {
    this.host = host;
  }

  run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, {
        cwd: options.cwd,
        env: options.env === undefined ? process.env : { ...process.env, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A program that exits before reading its stdin must not turn into an EPIPE failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const out = Buffer.concat(stdout).toString('utf8');
        const err = Buffer.concat(stderr).toString('utf8');
        if (timedOut) {
          reject(
            new CommandTimeoutError(this.host, [program, ...args].join(' '), options.timeoutMs ?? 0, err),
          );
          return;
        }
        // A signal death has no exit code; report it the way a shell does (128 + signal number).
        const exitCode = code ?? 128 + signalNumber(signal);
        resolve({ exitCode, stdout: out, stderr: err });
      });
    });
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const payload =
      typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await removeInterruptedWrites(path);
    await writeFileAtomic(path, payload, mode === undefined ? {} : { mode });
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async tailFile(path: string, maxBytes: number): Promise<string | undefined> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, Math.max(0, maxBytes));
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
      throw error;
    }
  }

  async lstat(path: string): Promise<PathStat | undefined> {
    try {
      const found = await lstat(path);
      return { kind: kindOfStat(found), uid: found.uid };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async mkdir(path: string, mode?: number): Promise<void> {
    await mkdir(path, mode === undefined ? { recursive: true } : { recursive: true, mode });
  }

  async remove(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async isPortFree(port: number): Promise<boolean> {
    // MongoDB and supervisord may bind either loopback family; the port is free only when both can be bound.
    // Binding 127.0.0.1 also fails when something listens on 0.0.0.0 (no SO_REUSEPORT).
    if (!(await canBind(port, '127.0.0.1'))) return false;
    return canBind(port, '::1');
  }

  async isPidAlive(pid: number): Promise<boolean> {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: the process exists but belongs to another user.
      return isErrno(error, 'EPERM');
    }
    return !(await isZombie(pid));
  }

  async homeDir(): Promise<string> {
    return homedir();
  }

  async forwardPort(port: number): Promise<ForwardedPort> {
    return { host: '127.0.0.1', port, close: async () => {} };
  }

  async upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<UploadResult> {
    const source = await sha256OfFile(localPath);
    if (options.sha256 !== undefined && options.sha256.toLowerCase() !== source.sha256)
      throw new UploadVerificationError(this.host, remotePath, options.sha256.toLowerCase(), source.sha256);
    const mode = options.mode ?? 0o644;
    const existing = await sha256OfFile(remotePath).catch(() => undefined);
    if (existing?.sha256 === source.sha256) {
      await chmod(remotePath, mode);
      return { ...source, skipped: true };
    }
    await mkdir(dirname(remotePath), { recursive: true });
    await removeInterruptedWrites(remotePath);
    const temp = `${remotePath}.${randomInt(1_000_000_000, 2_147_483_647)}`;
    try {
      await copyFile(localPath, temp);
      const copied = await sha256OfFile(temp);
      if (copied.sha256 !== source.sha256)
        throw new Error(`${temp} has sha256 ${copied.sha256} after the copy, expected ${source.sha256}`);
      await chmod(temp, mode);
      await rename(temp, remotePath);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { ...source, skipped: false };
  }

  async close(): Promise<void> {}
}

function kindOfStat(found: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }) {
  if (found.isSymbolicLink()) return 'symlink' as const;
  if (found.isDirectory()) return 'dir' as const;
  return found.isFile() ? ('file' as const) : ('other' as const);
}

async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A zombie, or a process reaped since kill(pid, 0) saw it: either way it is gone. */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain blanks or parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    // No /proc entry: reaped in between (ENOENT); without procfs (macOS) kill(pid, 0) alone decides.
    return isErrno(error, 'ENOENT') && process.platform === 'linux';
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) => {
      if (isErrno(error, 'EADDRINUSE') || isErrno(error, 'EACCES')) resolve(false);
      // No IPv6 on this machine: nothing can listen on ::1 either.
      else if (isErrno(error, 'EADDRNOTAVAIL') || isErrno(error, 'EAFNOSUPPORT')) resolve(true);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}

/** The user id of `user` on this machine (through `id`, so every account source counts), or undefined. */
export function localUidOf(user: string): number | undefined {
  try {
    const uid = Number.parseInt(
      execFileSync('id', ['-u', '--', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
      10,
    );
    return Number.isInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * write-file-atomic writes `<file>.<number>` and renames it over `<file>`; a mup process killed in between
 * leaves that temp file behind. The next write of the same file (a resumed step, under the cluster lock, so
 * no other writer of it is running) removes such leftovers, so an interrupted operation leaves no litter.
 */
async function removeInterruptedWrites(path: string): Promise<void> {
  const name = basename(path);
  let entries: string[];
  try {
    entries = await readdir(dirname(path));
  } catch {
    return;
  }
  const leftover = (entry: string) =>
    entry.startsWith(`${name}.`) && /^\d{1,10}$/.test(entry.slice(name.length + 1));
  await Promise.all(entries.filter(leftover).map((entry) => rm(join(dirname(path), entry), { force: true })));
}
