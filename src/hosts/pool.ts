// A pool of executors for a whole run: local hosts run here, every other host over one SSH connection
// that all steps share. `closeAll` releases the connections at the end of the run.
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Executor } from './executor.js';
import { LocalExecutor } from './local.js';
import { SshExecutor, type SshExecutorOptions } from './ssh.js';
import { type Credentials, gatherCredentials } from './ssh-auth.js';

/** What the topology says about how to reach a host (a ResolvedHost fits). */
export interface HostAddress {
  host: string;
  /** This machine (topology's verdict: localhost, 127.0.0.x, ::1): run here, no SSH. */
  local: boolean;
  /** Login user (`global.user` / the host's `user`); default: the user running mup. */
  user?: string;
  /** `ssh_port`; default 22. */
  sshPort?: number;
}

export interface ConnectOptions {
  /** $MUP_HOME: its known_hosts is trusted too and records keys accepted with `acceptNewHostKeys`. */
  mupHome: string;
  /** -i/--identity-file. */
  identityFile?: string;
  /** --accept-new-host-keys. */
  acceptNewHostKeys?: boolean;
  /** The control machine's home (~/.ssh/known_hosts and the default keys). Default: os.homedir(). */
  localHome?: string;
  /** ssh-agent socket. Default: $SSH_AUTH_SOCK. */
  agentSocket?: string | undefined;
  /** Asked for an encrypted key's passphrase (a TTY prompt); without it, encrypted keys are skipped. */
  passphrase?: (keyFile: string) => Promise<string | undefined>;
  /** The system-wide known_hosts. Default: /etc/ssh/ssh_known_hosts. */
  globalKnownHosts?: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  maxChannels?: number;
}

export class ExecutorPool {
  private readonly executors = new Map<string, Executor>();
  private readonly options: ConnectOptions;
  private credentials: Promise<Credentials> | undefined;

  constructor(options: ConnectOptions) {
    this.options = options;
  }

  /** The executor of a host: the same object (and so the same SSH connection) for every call. */
  executorFor(target: HostAddress): Executor {
    const { local } = target;
    const user = target.user ?? userInfo().username;
    const port = target.sshPort ?? 22;
    const key = local ? `local ${target.host}` : `${user}@${target.host}:${port}`;
    let executor = this.executors.get(key);
    if (executor === undefined) {
      executor = local
        ? new LocalExecutor(target.host)
        : new SshExecutor(this.sshOptions(target.host, port, user));
      this.executors.set(key, executor);
    }
    return executor;
  }

  /**
   * Closes every connection (in parallel); the pool can be used again afterwards (with new executors). The
   * executors handed out so far stay closed: work still running on them in the background fails at once.
   */
  async closeAll(): Promise<void> {
    const executors = [...this.executors.values()];
    this.executors.clear();
    await Promise.allSettled(
      executors.map((executor) => (executor instanceof SshExecutor ? executor.shutdown() : executor.close())),
    );
  }

  private sshOptions(host: string, port: number, user: string): SshExecutorOptions {
    const { options } = this;
    const localHome = options.localHome ?? homedir();
    const recordFile = join(options.mupHome, 'known_hosts');
    return {
      host,
      port,
      user,
      credentials: () => {
        this.credentials ??= gatherCredentials({
          agentSocket: 'agentSocket' in options ? options.agentSocket : process.env.SSH_AUTH_SOCK,
          identityFile: options.identityFile,
          localHome,
          passphrase: options.passphrase,
        });
        // A failed gathering (unreadable --identity-file) is reported again on the next attempt, not cached.
        this.credentials.catch(() => {
          this.credentials = undefined;
        });
        return this.credentials;
      },
      hostKeys: {
        knownHostsFiles: [
          join(localHome, '.ssh', 'known_hosts'),
          join(localHome, '.ssh', 'known_hosts2'),
          recordFile,
          options.globalKnownHosts ?? '/etc/ssh/ssh_known_hosts',
        ],
        recordFile,
        acceptNew: options.acceptNewHostKeys ?? false,
      },
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
      ...(options.keepaliveIntervalMs === undefined
        ? {}
        : { keepaliveIntervalMs: options.keepaliveIntervalMs }),
      ...(options.keepaliveCountMax === undefined ? {} : { keepaliveCountMax: options.keepaliveCountMax }),
      ...(options.maxChannels === undefined ? {} : { maxChannels: options.maxChannels }),
    };
  }
}
