// Which credentials to offer a host, in OpenSSH's order: the agent's keys (SSH_AUTH_SOCK), then the
// identity file given with -i/--identity-file, then ~/.ssh/id_ed25519, id_ecdsa and id_rsa where they exist.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, MupError } from '../errors.js';

export const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

export interface AuthSources {
  /** ssh-agent socket; undefined: no agent. */
  agentSocket: string | undefined;
  /** -i/--identity-file: must exist. */
  identityFile: string | undefined;
  /** The control machine's home: its .ssh/ holds the default keys. */
  localHome: string;
  /** Asked for the passphrase of an encrypted key (a TTY prompt); undefined: encrypted keys are skipped. */
  passphrase: ((keyFile: string) => Promise<string | undefined>) | undefined;
}

export type Credential =
  | { type: 'agent'; socket: string; label: string }
  | { type: 'publickey'; key: Buffer; passphrase: string | undefined; label: string };

export interface Credentials {
  credentials: Credential[];
  /** Keys found but not usable (encrypted without a passphrase, unreadable format), for the error message. */
  skipped: string[];
}

export async function gatherCredentials(sources: AuthSources): Promise<Credentials> {
  const credentials: Credential[] = [];
  const skipped: string[] = [];
  if (sources.agentSocket !== undefined && sources.agentSocket !== '')
    credentials.push({
      type: 'agent',
      socket: sources.agentSocket,
      label: `ssh-agent (${sources.agentSocket})`,
    });
  // Loaded here, not at start-up: only a command that reaches a remote host needs ssh2.
  const { default: ssh2 } = await import('ssh2');
  const files: Array<{ path: string; explicit: boolean }> = [];
  if (sources.identityFile !== undefined) files.push({ path: sources.identityFile, explicit: true });
  for (const name of DEFAULT_IDENTITY_FILES)
    files.push({ path: join(sources.localHome, '.ssh', name), explicit: false });
  for (const { path, explicit } of files) {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (error) {
      if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new MupError(`cannot read the identity file ${path}: ${(error as Error).message}`, {
        exitCode: ExitCode.usage,
        hint: 'pass the path of a private key, e.g. --identity-file ~/.ssh/id_ed25519',
      });
    }
    const parsed = ssh2.utils.parseKey(data);
    if (!(parsed instanceof Error)) {
      credentials.push({ type: 'publickey', key: data, passphrase: undefined, label: path });
      continue;
    }
    if (!/encrypted/i.test(parsed.message) || sources.passphrase === undefined) {
      skipped.push(
        `${path} (${/encrypted/i.test(parsed.message) ? 'encrypted, no passphrase' : parsed.message})`,
      );
      if (explicit && !/encrypted/i.test(parsed.message))
        throw new MupError(`${path} is not a usable private key: ${parsed.message}`, {
          exitCode: ExitCode.usage,
        });
      continue;
    }
    const passphrase = await sources.passphrase(path);
    if (passphrase === undefined) {
      skipped.push(`${path} (encrypted, no passphrase)`);
      continue;
    }
    const unlocked = ssh2.utils.parseKey(data, passphrase);
    if (unlocked instanceof Error) {
      skipped.push(`${path} (wrong passphrase)`);
      continue;
    }
    credentials.push({ type: 'publickey', key: data, passphrase, label: path });
  }
  return { credentials, skipped };
}
