// Why a host could not be reached or used. Each error names the host and says what to do about it.
import { MupError } from '../errors.js';

/** The host did not answer (connect timeout, refused, no route) or the connection to it was lost. */
export class HostUnreachableError extends MupError {
  readonly host: string;
  constructor(host: string, port: number, detail: string, cause?: unknown) {
    super(`${host} is unreachable over SSH (port ${port}): ${detail}`, {
      hint: `check that ${host} is up and that its sshd answers on port ${port} (ssh -p ${port} ${host} true)`,
      cause,
    });
    this.host = host;
  }
}

/** The server refused every key offered. */
export class HostAuthenticationError extends MupError {
  readonly host: string;
  constructor(host: string, user: string, tried: readonly string[]) {
    super(
      `SSH login as ${user}@${host} was refused; tried: ${tried.length === 0 ? 'nothing (no agent, no key file)' : tried.join(', ')}`,
      {
        hint: `authorize one of these keys for ${user} on ${host} (ssh-copy-id), load one into ssh-agent, or pass --identity-file; set the login user with global.user or the host's user`,
      },
    );
    this.host = host;
  }
}

/** Base class of host key refusals: the connection was dropped before anything was sent to the host. */
export class HostKeyError extends MupError {
  readonly host: string;
  constructor(host: string, message: string, hint: string) {
    super(message, { hint });
    this.host = host;
  }
}

export class UnknownHostKeyError extends HostKeyError {
  readonly fingerprint: string;
  constructor(host: string, lookup: string, kind: string, fingerprint: string) {
    super(
      host,
      `the host key of ${lookup} is not known: ${kind} key fingerprint is ${fingerprint}`,
      `check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${kind.toLowerCase()}_key.pub), then run again with --accept-new-host-keys or add the key to ~/.ssh/known_hosts`,
    );
    this.fingerprint = fingerprint;
  }
}

export class ChangedHostKeyError extends HostKeyError {
  readonly fingerprint: string;
  readonly knownFingerprints: string[];
  constructor(
    host: string,
    lookup: string,
    kind: string,
    fingerprint: string,
    known: ReadonlyArray<{ kind: string; fingerprint: string; where: string }>,
  ) {
    super(
      host,
      `the host key of ${lookup} has changed: it presented ${kind} ${fingerprint}, known as ${known
        .map((entry) => `${entry.kind} ${entry.fingerprint} (${entry.where})`)
        .join(', ')}`,
      `someone may be intercepting the connection, or the host was reinstalled; if you trust the new key, remove the old one (ssh-keygen -R ${lookup} -f <file>) and run again`,
    );
    this.fingerprint = fingerprint;
    this.knownFingerprints = known.map((entry) => entry.fingerprint);
  }
}

export class RevokedHostKeyError extends HostKeyError {
  constructor(host: string, lookup: string, kind: string, fingerprint: string, where: string) {
    super(
      host,
      `the host key of ${lookup} (${kind} ${fingerprint}) is marked @revoked in ${where}`,
      'the key must not be trusted: give the host a new key',
    );
  }
}

/** A command (or file operation) on a host did not finish in time; the command was killed. */
export class CommandTimeoutError extends MupError {
  readonly host: string;
  constructor(host: string, what: string, timeoutMs: number, stderr = '') {
    super(`${what} did not finish within ${timeoutMs} ms on ${host}${stderr === '' ? '' : `\n${stderr}`}`, {
      hint: `${host} may be overloaded or the operation stuck; look at the host and run again`,
    });
    this.host = host;
  }
}

/** The file that arrived differs from the one sent. */
export class UploadVerificationError extends MupError {
  constructor(host: string, path: string, expected: string, actual: string) {
    super(`${path} on ${host} has sha256 ${actual}, expected ${expected}: the upload was corrupted`, {
      hint: `check the disk on ${host} (df, dmesg) and run again`,
    });
  }
}
