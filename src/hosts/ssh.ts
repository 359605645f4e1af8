// The Executor for a remote host, over one ssh2 connection per host: commands on exec channels (at most
// `maxChannels` at once, below sshd's MaxSessions of 10), files over one shared SFTP channel, uploads with
// the sha256 checked on the host, and local listeners tunnelled to the host's loopback ports. A dropped
// connection fails what was in flight with HostUnreachableError; the next call connects again.
import { createHash, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import { constants } from 'node:os';
import { posix } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
// Types only: ssh2 itself (and its crypto and native modules) is loaded on the first connection, so that
// commands that never reach a remote host do not pay for it at start-up.
import type { AuthMethod, Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { MupError } from '../errors.js';
import {
  ChangedHostKeyError,
  CommandTimeoutError,
  HostAuthenticationError,
  HostUnreachableError,
  RevokedHostKeyError,
  UnknownHostKeyError,
  UploadVerificationError,
} from './errors.js';
import type {
  Executor,
  ForwardedPort,
  PathStat,
  RunOptions,
  RunResult,
  UploadOptions,
  UploadResult,
} from './executor.js';
import {
  checkHostKey,
  fingerprint,
  hostKeyName,
  type KnownHostEntry,
  keyKind,
  keyTypeOf,
  knownKeyTypes,
  readKnownHosts,
  recordHostKey,
} from './known-hosts.js';
import type { Credentials } from './ssh-auth.js';

export interface HostKeyPolicy {
  /** Files to trust, in order (~/.ssh/known_hosts, $MUP_HOME/known_hosts, /etc/ssh/ssh_known_hosts). */
  knownHostsFiles: readonly string[];
  /** Where a newly accepted key is recorded ($MUP_HOME/known_hosts). */
  recordFile: string;
  /** --accept-new-host-keys: trust (and record) a host with no known key. A changed key is never accepted. */
  acceptNew: boolean;
}

export interface SshExecutorOptions {
  /** The host as written in the topology (name or address). */
  host: string;
  port: number;
  user: string;
  /** Gathered once per run and shared by every host (a passphrase is asked once). */
  credentials: () => Promise<Credentials>;
  hostKeys: HostKeyPolicy;
  /** TCP connect + handshake + authentication. Default 10 s. */
  connectTimeoutMs?: number;
  /** A keep-alive every interval; the connection is dropped after `keepaliveCountMax` unanswered. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Concurrent exec channels. Default 6 (sshd's MaxSessions is 10; one is the SFTP channel, some margin). */
  maxChannels?: number;
  /** Default for `run` without `timeoutMs`. Default 10 min. */
  commandTimeoutMs?: number;
  /** Bound of each single file operation (not of uploads, which keep-alives guard). Default 60 s. */
  fileTimeoutMs?: number;
}

interface Connection {
  client: Client;
  sftp: Promise<SFTPWrapper> | undefined;
  closed: boolean;
  /** Operations in flight, failed at once when the connection drops. */
  inFlight: Set<(error: Error) => void>;
}

const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

export class SshExecutor implements Executor {
  readonly host: string;
  readonly local = false;
  readonly port: number;
  readonly user: string;
  private readonly options: SshExecutorOptions;
  private readonly limit: LimitFunction;
  private connecting: Promise<Connection> | undefined;
  private home: string | undefined;
  private readonly forwards = new Set<ForwardedPort>();
  /** Set by shutdown(): no new connection is made. */
  private finished = false;
  /** Fails the login in progress at once (set while one is). */
  private abortLogin: (() => void) | undefined;

  constructor(options: SshExecutorOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.user = options.user;
    this.limit = pLimit(options.maxChannels ?? 6);
  }

  // --- commands ---------------------------------------------------------------------------------------

  async run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const command = commandLine(program, args, options);
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs ?? 600_000;
    return this.exec(command, [program, ...args].join(' '), timeoutMs, options.input);
  }

  /** Runs a shell script with `sh -c` (positional arguments quoted), for the executor's own probes. */
  private sh(
    script: string,
    args: readonly string[] = [],
    timeoutMs = this.fileTimeoutMs,
  ): Promise<RunResult> {
    return this.exec(commandLine('sh', ['-c', script, 'sh', ...args]), script, timeoutMs, undefined);
  }

  private exec(
    command: string,
    what: string,
    timeoutMs: number,
    input: string | undefined,
  ): Promise<RunResult> {
    return this.limit(async () => {
      const connection = await this.connection();
      return this.tracked<RunResult>(connection, (resolve, reject) => {
        let channel: ClientChannel | undefined;
        let finished = false;
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const timer = setTimeout(() => {
          if (finished) return;
          finished = true;
          // Ask sshd to kill the command, then close the channel (which also ends its stdin/stdout).
          try {
            if (channel !== undefined) sendSignal(channel, 'KILL');
            channel?.close();
          } catch {
            // the channel is already gone
          }
          reject(new CommandTimeoutError(this.host, what, timeoutMs, Buffer.concat(stderr).toString('utf8')));
        }, timeoutMs);
        const open = (attempt: number) =>
          connection.client.exec(command, (error, stream) => {
            if (error !== undefined) {
              if (finished) return;
              // sshd frees a closed session slightly after its close is seen here, so a channel slot can be
              // briefly short; the command never started, so asking again is safe.
              if (/open failure/i.test(error.message) && attempt < 5 && !connection.closed) {
                setTimeout(() => open(attempt + 1), 100 * (attempt + 1));
                return;
              }
              clearTimeout(timer);
              finished = true;
              reject(new MupError(`cannot run ${what} on ${this.host}: ${error.message}`, { cause: error }));
              return;
            }
            started(stream);
          });
        const started = (stream: ClientChannel) => {
          channel = stream;
          if (finished) {
            // Timed out while the channel was opening: the command may have started; stop it.
            sendSignal(stream, 'KILL');
            stream.close();
            return;
          }
          let exitCode: number | undefined;
          stream.on('data', (chunk: Buffer) => stdout.push(chunk));
          stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
          stream.on('exit', (code: number | null, signal?: string) => {
            // A signal death has no exit code; report it the way a shell does (128 + signal number).
            exitCode = code ?? 128 + (constants.signals[`SIG${signal}` as NodeJS.Signals] ?? 0);
          });
          stream.on('close', () => {
            clearTimeout(timer);
            if (finished) return;
            finished = true;
            if (exitCode === undefined) {
              reject(new HostUnreachableError(this.host, this.port, `${what} ended without an exit status`));
              return;
            }
            resolve({
              exitCode,
              stdout: Buffer.concat(stdout).toString('utf8'),
              stderr: Buffer.concat(stderr).toString('utf8'),
            });
          });
          stream.end(input ?? '');
        };
        open(0);
      });
    });
  }

  // --- files ------------------------------------------------------------------------------------------

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    await this.mkdir(posix.dirname(path));
    await this.removeInterruptedWrites(path);
    const existingMode = mode ?? (await this.modeOf(path)) ?? 0o644;
    const temp = tempNameFor(path);
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    await this.sftpCall(`write ${temp}`, (sftp, done) =>
      sftp.writeFile(temp, payload, { mode: existingMode }, done),
    );
    try {
      // The SFTP server applies its umask at creation: set the mode exactly.
      await this.sftpCall(`chmod ${temp}`, (sftp, done) => sftp.chmod(temp, existingMode, done));
      await this.renameOver(temp, path);
    } catch (error) {
      await this.remove(temp).catch(() => {});
      throw error;
    }
  }

  async readFile(path: string): Promise<Buffer> {
    return this.sftpCall<Buffer>(`read ${path}`, (sftp, done) => sftp.readFile(path, done));
  }

  async tailFile(path: string, maxBytes: number): Promise<string | undefined> {
    let handle: Buffer;
    try {
      handle = await this.sftpCall<Buffer>(`open ${path}`, (sftp, done) => sftp.open(path, 'r', done));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      const { size } = await this.sftpCall<{ size: number }>(`stat ${path}`, (sftp, done) =>
        sftp.fstat(handle, done),
      );
      const length = Math.min(size, Math.max(0, maxBytes));
      const buffer = Buffer.alloc(length);
      let filled = 0;
      // A read returns at most one SFTP packet's worth; each round makes progress or the file shrank.
      for (let round = 0; filled < length && round <= length; round++) {
        const read = await this.sftpCall<number>(`read ${path}`, (sftp, done) =>
          sftp.read(handle, buffer, filled, length - filled, size - length + filled, (error, bytes) =>
            done(error, bytes),
          ),
        );
        if (read === 0) break;
        filled += read;
      }
      return buffer.subarray(0, filled).toString('utf8');
    } finally {
      await this.sftpCall(`close ${path}`, (sftp, done) => sftp.close(handle, done)).catch(() => {});
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.sftpCall<unknown>(`stat ${path}`, (sftp, done) => sftp.stat(path, done));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async lstat(path: string): Promise<PathStat | undefined> {
    try {
      const attrs = await this.sftpCall<{ mode: number; uid: number }>(`lstat ${path}`, (sftp, done) =>
        sftp.lstat(path, done),
      );
      // The file-type bits of st_mode (S_IFMT), as the host reports them.
      const type = attrs.mode & 0o170000;
      const kind =
        type === 0o120000 ? 'symlink' : type === 0o040000 ? 'dir' : type === 0o100000 ? 'file' : 'other';
      return { kind, uid: attrs.uid };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async mkdir(path: string, mode?: number): Promise<void> {
    // Walk up to the deepest existing directory, then create the rest top-down (like mkdir -p).
    const missing: string[] = [];
    let current = posix.normalize(path);
    for (let depth = 0; depth < 256 && !(await this.exists(current)); depth++) {
      missing.unshift(current);
      const parent = posix.dirname(current);
      if (parent === current) break;
      current = parent;
    }
    for (const dir of missing) {
      try {
        await this.sftpCall(`mkdir ${dir}`, (sftp, done) =>
          sftp.mkdir(dir, mode === undefined ? {} : { mode }, done),
        );
      } catch (error) {
        // Created meanwhile by a parallel step: fine.
        if (!(await this.exists(dir))) throw error;
        continue;
      }
      if (mode !== undefined)
        await this.sftpCall(`chmod ${dir}`, (sftp, done) => sftp.chmod(dir, mode, done));
    }
  }

  async remove(path: string): Promise<void> {
    const result = await this.sh('rm -rf -- "$1"', [path]);
    if (result.exitCode !== 0)
      throw new MupError(`cannot remove ${path} on ${this.host}: ${result.stderr.trim()}`);
  }

  // --- probes -----------------------------------------------------------------------------------------

  async isPortFree(port: number): Promise<boolean> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new MupError(`invalid port ${port}`);
    // Python is on every host that runs supervisord. Binding the wildcard addresses fails when anything is
    // bound to the port on any address (Linux refuses a wildcard bind that overlaps a specific one).
    const script = [
      'import errno, socket, sys',
      'port = int(sys.argv[1])',
      'for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):',
      '    try:',
      '        s = socket.socket(family, socket.SOCK_STREAM)',
      '    except OSError:',
      '        continue',
      '    try:',
      // As mongod (and Node's listen) do: a port whose last connections linger in TIME_WAIT is free.
      '        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      '        if family == socket.AF_INET6:',
      '            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)',
      '        s.bind((address, port))',
      '    except OSError as e:',
      '        if e.errno in (errno.EADDRINUSE, errno.EACCES):',
      '            sys.exit(1)',
      '    finally:',
      '        s.close()',
    ].join('\n');
    const result = await this.exec(
      commandLine('python3', ['-c', script, String(port)]),
      'port probe',
      this.fileTimeoutMs,
      undefined,
    );
    if (result.exitCode > 1)
      throw new MupError(`cannot probe port ${port} on ${this.host}: ${result.stderr.trim()}`, {
        hint: `install python3 on ${this.host} (supervisord needs it too)`,
      });
    return result.exitCode === 0;
  }

  async isPidAlive(pid: number): Promise<boolean> {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    // On Linux a zombie (exited, not yet reaped) still has /proc/<pid>; it holds nothing, so it is gone.
    const script = [
      'if [ -r /proc/self/stat ]; then',
      '  s=$(cat "/proc/$1/stat" 2>/dev/null) || exit 1',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
      '  case "${s##*) }" in Z*) exit 1;; esac',
      '  exit 0',
      'fi',
      'kill -0 "$1" 2>/dev/null',
    ].join('\n');
    const result = await this.sh(script, [String(pid)]);
    return result.exitCode === 0;
  }

  async homeDir(): Promise<string> {
    if (this.home === undefined) {
      // sftp-server starts in the login user's home directory.
      this.home = await this.sftpCall<string>('realpath .', (sftp, done) => sftp.realpath('.', done));
    }
    return this.home;
  }

  // --- upload -----------------------------------------------------------------------------------------

  async upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<UploadResult> {
    // Hashing is a full read of the file: skipped when the caller knows the sum (one hash for many hosts).
    const { sha256, bytes } =
      options.sha256 === undefined
        ? await hashLocalFile(localPath)
        : { sha256: options.sha256.toLowerCase(), bytes: (await stat(localPath)).size };
    const sent = await this.sendFile(localPath, remotePath, sha256, options.mode);
    return { sha256, bytes, skipped: !sent };
  }

  /**
   * One command on an exec channel: when the host already has `remotePath` with this sha256 it says
   * `present` (and sets the mode, if one is asked) and nothing is sent; otherwise it says `send`, a temp file
   * of a killed earlier upload is removed, and the stream is written to a temp file beside `remotePath` with
   * `tee` and hashed in the same pass, then installed (chmod, rename over) only when the host's sha256 is
   * `sha256`. One stream with the channel's window as flow control costs less than SFTP's request per chunk,
   * the host's hash needs no second read of the file, and one command costs one session (tens of ms each).
   * Resolves true when the file was sent, false when the host had it.
   */
  private sendFile(
    localPath: string,
    remotePath: string,
    sha256: string,
    mode: number | undefined,
  ): Promise<boolean> {
    const temp = tempNameFor(remotePath);
    // Exit codes: 1 chmod of the present file failed, 2 the directory cannot be made, 3 the file cannot be
    // written (tee's status, passed around the pipe: a full disk must fail the upload though the hash of the
    // stream would match), 4 the sum differs (printed), 5 no sha256 tool, 6 chmod or rename failed.
    const script = `${DIGEST_FUNCTION}
if [ -f "$1" ] && [ "$(digest <"$1" | cut -c1-64)" = "$3" ]; then
  if [ -n "$5" ]; then chmod "$5" "$1" || exit 1; fi
  echo "$6 present"
  exit 0
fi
echo "$6 send"
mkdir -p -- "$(dirname -- "$1")" || exit 2
for f in "$1".*; do
  suffix=\${f##*.}
  case $suffix in ''|*[!0-9]*) ;; *) [ \${#suffix} -le 10 ] && rm -f -- "$f" ;; esac
done
umask 077
out=$( { { tee -- "$2" || echo write-failed >&3; } | digest; } 3>&1 )
case $out in *write-failed*) rm -f -- "$2"; exit 3 ;; esac
sum=$(printf '%s' "$out" | cut -c1-64)
[ \${#sum} -eq 64 ] || { rm -f -- "$2"; echo "none of openssl, sha256sum or shasum computed it" >&2; exit 5; }
[ "$sum" = "$3" ] || { rm -f -- "$2"; echo "$sum"; exit 4; }
chmod "$4" "$2" && mv -f -- "$2" "$1" || { rm -f -- "$2"; exit 6; }`;
    // The answer line carries a token of this upload: a line a shell start-up file prints is not taken for it.
    const token = `mup-upload-${randomInt(1_000_000_000, 2_147_483_647)}`;
    // No mode asked: a new file is 0644, the host's copy keeps its own.
    const newMode = (mode ?? 0o644).toString(8);
    const presentMode = mode === undefined ? '' : mode.toString(8);
    return this.limit(async () => {
      const connection = await this.connection();
      return this.tracked<boolean>(connection, (resolve, reject) => {
        const command = commandLine('sh', [
          '-c',
          script,
          'sh',
          remotePath,
          temp,
          sha256,
          newMode,
          presentMode,
          token,
        ]);
        connection.client.exec(command, (error, channel) => {
          if (error !== undefined) {
            reject(
              new MupError(`cannot upload ${remotePath} to ${this.host}: ${error.message}`, { cause: error }),
            );
            return;
          }
          const stdout: Buffer[] = [];
          const stderr: Buffer[] = [];
          let exitCode: number | undefined;
          let settled = false;
          let file: ReturnType<typeof createReadStream> | undefined;
          const fail = (reason: Error) => {
            if (settled) return;
            settled = true;
            clearTimeout(stalled);
            file?.destroy();
            reject(reason);
          };
          // Keep-alives catch a dead link, not a transfer that stopped moving on a live one: without
          // progress for the file timeout the connection is dropped (the next call makes a new one).
          const stallMs = this.fileTimeoutMs;
          let stalled: NodeJS.Timeout | undefined;
          const watch = () => {
            clearTimeout(stalled);
            stalled = setTimeout(
              () =>
                this.dropped(
                  connection,
                  new CommandTimeoutError(this.host, `upload of ${remotePath} (no progress)`, stallMs),
                ),
              stallMs,
            );
            // The connection's own handles keep the process up while the transfer runs; this timer need not.
            stalled.unref();
          };
          watch();
          // The first line says whether to send: the file starts to flow only after `send`.
          let answer: 'present' | 'send' | undefined;
          const send = () => {
            // Large reads: fewer, fuller channel writes (measured faster than the 64 KiB default).
            file = createReadStream(localPath, { highWaterMark: 1024 * 1024 });
            file.on('data', watch);
            file.on('error', (cause) =>
              fail(new MupError(`cannot read ${localPath} to upload it: ${cause.message}`, { cause })),
            );
            file.pipe(channel);
          };
          channel.on('data', (chunk: Buffer) => {
            stdout.push(chunk);
            if (answer !== undefined) return;
            // Whole lines only, and any a shell start-up file printed before them skipped.
            const printed = Buffer.concat(stdout).toString('utf8');
            const lines = printed.slice(0, printed.lastIndexOf('\n') + 1).split('\n');
            const at = lines.findIndex((line) => line === `${token} present` || line === `${token} send`);
            if (at === -1) return;
            answer = lines[at] === `${token} present` ? 'present' : 'send';
            stdout.length = 0;
            stdout.push(
              Buffer.from(lines.slice(at + 1).join('\n') + printed.slice(printed.lastIndexOf('\n') + 1)),
            );
            if (answer === 'send') send();
            else channel.end();
          });
          channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
          channel.on('exit', (code: number | null) => {
            exitCode = code ?? 128;
          });
          channel.on('close', () => {
            file?.destroy();
            if (settled) return;
            settled = true;
            clearTimeout(stalled);
            const message = Buffer.concat(stderr).toString('utf8').trim();
            const printed = Buffer.concat(stdout).toString('utf8').trim();
            if (exitCode === 0 && answer !== undefined) resolve(answer === 'send');
            else if (exitCode === 1)
              reject(new MupError(`cannot set the mode of ${remotePath} on ${this.host}: ${message}`));
            else if (exitCode === 0)
              reject(
                new MupError(`upload of ${remotePath} to ${this.host} ended without an answer: ${printed}`),
              );
            else if (exitCode === undefined)
              reject(
                new HostUnreachableError(
                  this.host,
                  this.port,
                  `upload of ${remotePath} ended without an exit status`,
                ),
              );
            else if (exitCode === 4)
              reject(new UploadVerificationError(this.host, remotePath, sha256, printed));
            else if (exitCode === 5)
              reject(
                new MupError(`cannot compute the sha256 of ${remotePath} on ${this.host}: ${message}`, {
                  hint: `install coreutils (sha256sum) on ${this.host}`,
                }),
              );
            else
              reject(
                new MupError(
                  `cannot write ${exitCode === 6 ? remotePath : temp} on ${this.host}: ${message || `exit status ${exitCode}`}`,
                  {
                    hint: `check the free space and permissions of ${posix.dirname(remotePath)} on ${this.host}`,
                  },
                ),
              );
          });
        });
      });
    });
  }

  // --- port forwarding --------------------------------------------------------------------------------

  async forwardPort(port: number): Promise<ForwardedPort> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      // Each local connection gets its own channel on the current connection (made again if it dropped).
      this.connection().then(
        (connection) =>
          connection.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (error, stream) => {
            if (error !== undefined) {
              socket.destroy();
              return;
            }
            stream.on('error', () => socket.destroy());
            stream.on('close', () => socket.destroy());
            socket.on('close', () => stream.close());
            socket.pipe(stream).pipe(socket);
          }),
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new MupError('forward listener has no port');
    const forwarded: ForwardedPort = {
      host: '127.0.0.1',
      port: address.port,
      close: async () => {
        this.forwards.delete(forwarded);
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    this.forwards.add(forwarded);
    return forwarded;
  }

  // --- connection -------------------------------------------------------------------------------------

  /** Connects now (or reuses the connection): host key, authentication and reachability are checked. */
  async connect(): Promise<void> {
    await this.connection();
  }

  async close(): Promise<void> {
    for (const forwarded of [...this.forwards]) await forwarded.close();
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting === undefined) return;
    // A login still in progress (a host that does not answer) is abandoned now, not at its connect timeout:
    // closing must never keep a command waiting on a host it no longer needs.
    this.abortLogin?.();
    const connection = await connecting.catch(() => undefined);
    if (connection === undefined || connection.closed) return;
    await new Promise<void>((resolve) => {
      connection.client.once('close', () => resolve());
      connection.client.end();
      // end() waits for the server; a host that stopped answering must not hold close() up.
      setTimeout(() => {
        connection.client.destroy();
        resolve();
      }, 2000).unref();
    });
  }

  /**
   * Closes for good: what is still running in the background (a probe that outlived its caller's timeout)
   * fails at once instead of opening a new connection that would keep the process up until its timeout.
   */
  async shutdown(): Promise<void> {
    this.finished = true;
    await this.close();
  }

  private connection(): Promise<Connection> {
    if (this.finished)
      return Promise.reject(
        new HostUnreachableError(this.host, this.port, 'the connection was closed by mup'),
      );
    if (this.connecting === undefined) {
      const attempt = this.open();
      this.connecting = attempt;
      attempt.catch(() => {
        if (this.connecting === attempt) this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Connection> {
    const { hostKeys } = this.options;
    const lookup = hostKeyName(this.host, this.port);
    const entries = await readKnownHosts(hostKeys.knownHostsFiles);
    const { credentials, skipped } = await this.options.credentials();
    const tried = [...credentials.map((credential) => credential.label), ...skipped];
    const authMethods: AuthMethod[] = credentials.map((credential) =>
      credential.type === 'agent'
        ? ({ type: 'agent', username: this.user, agent: credential.socket } as AuthMethod)
        : ({
            type: 'publickey',
            username: this.user,
            key: credential.key,
            ...(credential.passphrase === undefined ? {} : { passphrase: credential.passphrase }),
          } as AuthMethod),
    );
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    // ssh2 is CommonJS: its named exports are reached through the default export.
    const { default: ssh2 } = await import('ssh2');

    return new Promise<Connection>((resolve, reject) => {
      const client = new ssh2.Client();
      const connection: Connection = { client, sftp: undefined, closed: false, inFlight: new Set() };
      let ready = false;
      let settled = false;
      let keyRefusal: Error | undefined;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.abortLogin === abort) this.abortLogin = undefined;
        client.destroy();
        reject(error);
      };
      const abort = () => fail(new HostUnreachableError(this.host, this.port, 'connection closed by mup'));
      this.abortLogin = abort;
      // ssh2's readyTimeout covers the handshake; this bounds everything up to `ready`, authentication included.
      const timer = setTimeout(
        () => fail(new HostUnreachableError(this.host, this.port, `no answer within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
        this.verifyHostKey(entries, lookup, key).then(
          () => verify(true),
          (error: Error) => {
            keyRefusal = error;
            verify(false);
          },
        );
      };
      client.on('ready', () => {
        ready = true;
        settled = true;
        clearTimeout(timer);
        if (this.abortLogin === abort) this.abortLogin = undefined;
        resolve(connection);
      });
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        if (!ready) {
          if (keyRefusal !== undefined) fail(keyRefusal);
          else if (error.level === 'client-authentication')
            fail(new HostAuthenticationError(this.host, this.user, tried));
          else if (
            error.level === 'client-timeout' ||
            error.level === 'client-socket' ||
            error.code !== undefined
          )
            fail(new HostUnreachableError(this.host, this.port, error.message, error));
          else
            fail(new MupError(`SSH connection to ${this.host} failed: ${error.message}`, { cause: error }));
          return;
        }
        this.dropped(
          connection,
          new HostUnreachableError(this.host, this.port, `connection lost: ${error.message}`, error),
        );
      });
      client.on('close', () => {
        if (!ready)
          fail(
            keyRefusal ?? new HostUnreachableError(this.host, this.port, 'connection closed during login'),
          );
        this.dropped(connection, new HostUnreachableError(this.host, this.port, 'connection closed'));
      });
      const config: ConnectConfig = {
        host: this.host,
        port: this.port,
        username: this.user,
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: this.options.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
        hostVerifier,
        authHandler: authMethods,
        algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, lookup)) as never },
      };
      try {
        client.connect({ ...config, sock: coalescingSocket(this.host, this.port) });
      } catch (error) {
        fail(
          new MupError(`SSH connection to ${this.host} failed: ${(error as Error).message}`, {
            cause: error,
          }),
        );
      }
    });
  }

  private async verifyHostKey(
    entries: readonly KnownHostEntry[],
    lookup: string,
    key: Buffer,
  ): Promise<void> {
    const kind = keyKind(keyTypeOf(key) ?? 'unknown');
    const print = fingerprint(key);
    const verdict = checkHostKey(entries, lookup, key);
    switch (verdict.status) {
      case 'known':
        return;
      case 'revoked':
        throw new RevokedHostKeyError(
          this.host,
          lookup,
          kind,
          print,
          `${verdict.entry.file}:${verdict.entry.line}`,
        );
      case 'changed':
        throw new ChangedHostKeyError(
          this.host,
          lookup,
          kind,
          print,
          verdict.known.map((entry) => ({
            kind: keyKind(entry.keyType),
            fingerprint: fingerprint(entry.key),
            where: `${entry.file}:${entry.line}`,
          })),
        );
      case 'unknown':
        if (!this.options.hostKeys.acceptNew) throw new UnknownHostKeyError(this.host, lookup, kind, print);
        await recordHostKey(this.options.hostKeys.recordFile, lookup, key);
    }
  }

  private dropped(connection: Connection, error: Error): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.sftp = undefined;
    if (this.connecting !== undefined)
      this.connecting.then(
        (current) => {
          if (current === connection) this.connecting = undefined;
        },
        () => {},
      );
    for (const fail of [...connection.inFlight]) fail(error);
    connection.inFlight.clear();
    connection.client.destroy();
  }

  /** Runs an operation on the connection; it fails at once if the connection drops meanwhile. */
  private tracked<T>(
    connection: Connection,
    body: (resolve: (value: T) => void, reject: (error: Error) => void) => void,
  ): Promise<T> {
    if (connection.closed)
      return Promise.reject(new HostUnreachableError(this.host, this.port, 'connection closed'));
    return new Promise<T>((resolve, reject) => {
      const onDrop = (error: Error) => reject(error);
      connection.inFlight.add(onDrop);
      body(
        (value) => {
          connection.inFlight.delete(onDrop);
          resolve(value);
        },
        (error) => {
          connection.inFlight.delete(onDrop);
          reject(error);
        },
      );
    });
  }

  private async sftpSession(): Promise<{ sftp: SFTPWrapper; connection: Connection }> {
    const connection = await this.connection();
    if (connection.sftp === undefined) {
      const opening = this.limit(() =>
        this.tracked<SFTPWrapper>(connection, (resolve, reject) =>
          connection.client.sftp((error, sftp) =>
            error === undefined
              ? resolve(sftp)
              : reject(new MupError(`cannot open SFTP on ${this.host}: ${error.message}`)),
          ),
        ),
      );
      connection.sftp = opening;
      opening.catch(() => {
        if (connection.sftp === opening) connection.sftp = undefined;
      });
    }
    return { sftp: await connection.sftp, connection };
  }

  /** One SFTP request, bounded by the file timeout, failed at once if the connection drops. */
  private async sftpCall<T = void>(
    what: string,
    call: (sftp: SFTPWrapper, done: (error: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    const { sftp, connection } = await this.sftpSession();
    const timeoutMs = this.fileTimeoutMs;
    return this.tracked<T>(connection, (resolve, reject) => {
      const timer = setTimeout(() => reject(new CommandTimeoutError(this.host, what, timeoutMs)), timeoutMs);
      call(sftp, (error, value) => {
        clearTimeout(timer);
        if (error !== undefined && error !== null) reject(this.sftpError(error, what));
        else resolve(value as T);
      });
    });
  }

  private get fileTimeoutMs(): number {
    return this.options.fileTimeoutMs ?? 60_000;
  }

  /** SFTP status codes as the errno codes LocalExecutor's callers already test for. */
  private sftpError(error: Error & { code?: unknown }, what: string): Error {
    const errno =
      error.code === SFTP_NO_SUCH_FILE
        ? 'ENOENT'
        : error.code === SFTP_PERMISSION_DENIED
          ? 'EACCES'
          : undefined;
    const mapped = new MupError(`${what} on ${this.host}: ${error.message}`, { cause: error }) as MupError & {
      code?: string;
    };
    if (errno !== undefined) mapped.code = errno;
    return mapped;
  }

  private async modeOf(path: string): Promise<number | undefined> {
    try {
      const stats = await this.sftpCall<{ mode: number }>(`stat ${path}`, (sftp, done) =>
        sftp.stat(path, done),
      );
      return stats.mode & 0o7777;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  /** Atomic replace: OpenSSH's posix-rename extension; plain SFTP rename refuses an existing target. */
  private async renameOver(from: string, to: string): Promise<void> {
    const { sftp } = await this.sftpSession();
    // biome-ignore lint/suspicious/noExplicitAny: the extension table is not in ssh2's types
    const extensions = (sftp as any)._extensions as Record<string, string> | undefined;
    if (extensions?.['posix-rename@openssh.com'] !== undefined) {
      await this.sftpCall(`rename ${from}`, (session, done) => session.ext_openssh_rename(from, to, done));
      return;
    }
    const result = await this.sh('mv -f -- "$1" "$2"', [from, to]);
    if (result.exitCode !== 0)
      throw new MupError(`cannot rename ${from} on ${this.host}: ${result.stderr.trim()}`);
  }

  /** Removes `<file>.<digits>` left by a write that was killed between writing and renaming (as LocalExecutor). */
  private async removeInterruptedWrites(path: string): Promise<void> {
    const dir = posix.dirname(path);
    const name = posix.basename(path);
    let listing: Array<{ filename: string }>;
    try {
      listing = await this.sftpCall<Array<{ filename: string }>>(`list ${dir}`, (sftp, done) =>
        sftp.readdir(dir, done),
      );
    } catch {
      return;
    }
    const leftovers = listing
      .map((entry) => entry.filename)
      .filter((entry) => entry.startsWith(`${name}.`) && /^\d{1,10}$/.test(entry.slice(name.length + 1)));
    for (const leftover of leftovers) await this.remove(posix.join(dir, leftover));
  }
}

/**
 * Sends a signal request (RFC 4254 §6.9; sshd kills the command's process group). ssh2's `signal()` sends
 * nothing once stdin was closed, though the channel is still open and sshd still accepts the request.
 */
/**
 * A TCP socket whose writes of one turn of the event loop leave in one system call. ssh2 writes each packet
 * as four buffers (length, ciphertext, padding, MAC) on a socket without Nagle's delay, so a stream of 32 KiB
 * packets otherwise costs four writes and as many TCP segments per packet, on both ends of the link.
 */
function coalescingSocket(host: string, port: number): Socket {
  const socket = new Socket();
  // Connecting resets an own `write` (net undoes a write-after-end guard that way), so it is set after.
  socket.connect({ host, port });
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
  return socket;
}

function sendSignal(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal(id: number, signal: string): void } };
  };
  const id = internals.outgoing?.id;
  const protocol = internals._client?._protocol;
  const state = internals.outgoing?.state;
  // 'eof': we closed stdin, the channel itself is still open.
  if (id !== undefined && (state === 'open' || state === 'eof') && protocol !== undefined)
    protocol.signal(id, name);
}

/** `'...'` with embedded quotes as `'\''`: safe in any POSIX shell, whatever the argument holds. */
export function shellQuote(argument: string): string {
  if (argument.includes('\0')) throw new MupError('a command argument contains a NUL byte');
  return `'${argument.replaceAll("'", "'\\''")}'`;
}

/** The command line sshd hands to the login shell: `cd DIR && exec env K=V PROGRAM ARGS...`, all quoted. */
export function commandLine(program: string, args: readonly string[], options: RunOptions = {}): string {
  const parts: string[] = [];
  if (options.cwd !== undefined) parts.push(`cd ${shellQuote(options.cwd)} &&`);
  parts.push('exec');
  const env = Object.entries(options.env ?? {});
  if (env.length > 0) {
    parts.push('env');
    for (const [name, value] of env) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new MupError(`invalid environment variable name ${name}`);
      parts.push(shellQuote(`${name}=${value}`));
    }
  }
  parts.push(shellQuote(program), ...args.map(shellQuote));
  return parts.join(' ');
}

/** Host key algorithms to offer, those of the keys already known for the host first (as ssh does). */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first = knownTypes.flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/**
 * sha256 of stdin, the hex digest first on the line: openssl where present (it uses the CPU's SHA
 * instructions: about 3× faster than coreutils' sha256sum, measured on 300 MiB), else sha256sum (Linux),
 * else shasum (macOS).
 */
const DIGEST_FUNCTION = [
  'digest() {',
  '  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r',
  '  elif command -v sha256sum >/dev/null 2>&1; then sha256sum',
  '  else shasum -a 256; fi',
  '}',
].join('\n');

function tempNameFor(path: string): string {
  return `${path}.${randomInt(1_000_000_000, 2_147_483_647)}`;
}

async function hashLocalFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
