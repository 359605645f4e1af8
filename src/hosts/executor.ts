// The one way mup touches a host. Local and SSH implementations share this interface so that every
// operation (rendering files, supervisord, port probes) is written once. Nothing outside hosts/ uses
// child_process, fs on host paths, or ssh2 directly.

export interface RunOptions {
  /** Kill the command and fail after this long. */
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Data written to the command's stdin. */
  input?: string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A local endpoint that reaches a port on the host (the same port for local hosts, an SSH tunnel for remote ones). */
export interface ForwardedPort {
  /** Loopback address and port to connect to from this machine. */
  host: string;
  port: number;
  /** Release the tunnel; a no-op for local hosts. */
  close(): Promise<void>;
}

export interface UploadOptions {
  /** Mode of the file on the host (default 0644). */
  mode?: number;
  /**
   * The file's sha256 when already known (an archive checked at download): the local file is not hashed
   * again, and a host copy with another sha256 fails the upload (UploadVerificationError), so a local file
   * that does not match it is never installed.
   */
  sha256?: string;
}

export interface UploadResult {
  /** sha256 of the file, hex; the host's copy was checked to have it. */
  sha256: string;
  bytes: number;
  /** True when the host already held a file with this sha256 at that path: nothing was sent. */
  skipped: boolean;
}

/** What a path itself is, never following a final symbolic link (lstat). */
export interface PathStat {
  kind: 'dir' | 'file' | 'symlink' | 'other';
  /** Owner's user id. */
  uid: number;
}

export interface Executor {
  /** The host name as written in the topology. */
  readonly host: string;
  readonly local: boolean;
  /** Run a program with arguments (no shell). Resolves with the exit code; rejects only if it could not run. */
  run(program: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Write a file atomically (temp file + rename), creating parent directories. */
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** Last `maxBytes` of a file, or undefined when it does not exist. */
  tailFile(path: string, maxBytes: number): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  /** The path itself (a symbolic link is reported as one, not followed); undefined when nothing is there. */
  lstat(path: string): Promise<PathStat | undefined>;
  mkdir(path: string, mode?: number): Promise<void>;
  /** Remove a file or directory tree; no error when it does not exist. */
  remove(path: string): Promise<void>;
  /** True when nothing listens on host:port and it can be bound. */
  isPortFree(port: number): Promise<boolean>;
  /** True when a process with this pid exists on the host. */
  isPidAlive(pid: number): Promise<boolean>;
  /** The login user's home directory on the host. */
  homeDir(): Promise<string>;
  /**
   * Reach a loopback port of the host from this machine (supervisord's API is bound to 127.0.0.1 on every host).
   * Local executors return the port itself; remote executors must implement it with a tunnel. Without it, a remote
   * host's supervisord cannot be driven.
   */
  forwardPort?(port: number): Promise<ForwardedPort>;
  /**
   * Copy a file of this machine to the host (temp file + rename, parent directories created), verified by
   * its sha256 computed on the host. Skipped when the host already has the same content at that path.
   */
  upload(localPath: string, remotePath: string, options?: UploadOptions): Promise<UploadResult>;
  /** Opens the connection now (remote hosts: host key, login); a no-op for local hosts. */
  connect?(): Promise<void>;
  /** Release the connection and tunnels (remote hosts); the executor connects again if used afterwards. */
  close(): Promise<void>;
}

/** A file's size in bytes on the executor's host (`wc -c`, there on any host mup reaches); undefined when missing. */
export async function fileSizeOn(executor: Executor, path: string): Promise<number | undefined> {
  const result = await executor.run('wc', ['-c', path], { timeoutMs: 10_000 });
  if (result.exitCode !== 0) return undefined;
  const size = Number(result.stdout.trim().split(/\s+/)[0]);
  return Number.isFinite(size) ? size : undefined;
}
