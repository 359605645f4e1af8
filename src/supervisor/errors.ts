// Typed errors of the supervision layer. Each says what failed and carries a hint the CLI prints.
import { ExitCode, MupError } from '../errors.js';

/** supervisord's fault codes (supervisor/xmlrpc.py `Faults`, 4.2.5). */
export const Fault = {
  UNKNOWN_METHOD: 1,
  INCORRECT_PARAMETERS: 2,
  BAD_ARGUMENTS: 3,
  SIGNATURE_UNSUPPORTED: 4,
  SHUTDOWN_STATE: 6,
  BAD_NAME: 10,
  BAD_SIGNAL: 11,
  NO_FILE: 20,
  NOT_EXECUTABLE: 21,
  FAILED: 30,
  ABNORMAL_TERMINATION: 40,
  SPAWN_ERROR: 50,
  ALREADY_STARTED: 60,
  NOT_RUNNING: 70,
  SUCCESS: 80,
  ALREADY_ADDED: 90,
  STILL_RUNNING: 91,
  CANT_REREAD: 92,
} as const;
export type FaultCode = (typeof Fault)[keyof typeof Fault];

const FAULT_NAMES = new Map<number, string>(Object.entries(Fault).map(([name, code]) => [code, name]));

export function faultName(code: number): string {
  return FAULT_NAMES.get(code) ?? `FAULT_${code}`;
}

/** A fault returned by supervisord for one call. */
export class SupervisorFault extends MupError {
  readonly code: number;
  readonly method: string;
  /** The faultString without its `NAME: ` prefix. */
  readonly detail: string;

  constructor(method: string, code: number, faultString: string) {
    const prefix = `${faultName(code)}: `;
    const detail = faultString.startsWith(prefix) ? faultString.slice(prefix.length) : faultString;
    super(`supervisord ${method} failed: ${faultName(code)} (${code})${detail === '' ? '' : `: ${detail}`}`);
    this.code = code;
    this.method = method;
    this.detail = detail;
  }
}

export function isFault(error: unknown, code: number): error is SupervisorFault {
  return error instanceof SupervisorFault && error.code === code;
}

/** Nothing answered on the API port (refused, reset, timed out). */
export class SupervisorUnreachableError extends MupError {
  readonly endpoint: string;
  constructor(endpoint: string, reason: string, cause?: unknown) {
    super(`supervisord at ${endpoint} is unreachable: ${reason}`, {
      hint: 'is the daemon running? `mup cluster supervisor status <cluster>` shows it',
      cause,
    });
    this.endpoint = endpoint;
  }
}

/** The API answered 401: wrong or missing credentials. */
export class SupervisorAuthError extends MupError {
  constructor(endpoint: string) {
    super(`supervisord at ${endpoint} refused the credentials (HTTP 401)`, {
      hint: 'the password in the cluster store does not match supervisor.ini; another daemon may own the port',
    });
  }
}

/** This cluster's own supervisord answers, but not to the password in the cluster store. */
export class SupervisorCredentialsMismatchError extends MupError {
  constructor(host: string, iniPath: string, pid: number) {
    super(
      `supervisord of this cluster on ${host} (pid ${pid}, ${iniPath}) refused mup's credentials: the password in the cluster store does not match its supervisor.ini`,
      {
        hint: `restore the cluster store's secrets/supervisor-password (or ${iniPath}) from a backup; mup will not treat its processes as orphans`,
      },
    );
  }
}

/** The API answered something that is not supervisord XML-RPC. */
export class SupervisorProtocolError extends MupError {
  constructor(endpoint: string, reason: string, cause?: unknown) {
    super(`unexpected answer from ${endpoint}: ${reason}`, {
      hint: 'another program may be listening on the supervisor port',
      cause,
    });
  }
}

export class SupervisordNotFoundError extends MupError {
  constructor(host: string, searched: string) {
    // Exit 2: the host lacks a prerequisite; it is found missing before anything is changed.
    super(`supervisord was not found on ${host} (${searched})`, {
      exitCode: ExitCode.usage,
      hint:
        'install supervisor: `sudo apt-get install supervisor` (Debian/Ubuntu), `brew install supervisor` (macOS) ' +
        'or `pip install supervisor`; or set MUP_SUPERVISORD to the supervisord executable',
    });
  }
}

/** The cluster's API port is held by another program (or another cluster's daemon). */
export class SupervisorPortTakenError extends MupError {
  readonly port: number;
  readonly owner: string | undefined;
  constructor(host: string, port: number, owner: string | undefined) {
    super(
      `port ${port} on ${host} is in use${owner === undefined ? '' : ` by ${owner}`}; supervisord of this cluster cannot listen there`,
      { hint: 'stop that program, or let mup allocate another supervisor port for this cluster' },
    );
    this.port = port;
    this.owner = owner;
  }
}

/** supervisord refused to start for another reason (bad config, minfds above the hard limit, ...). */
export class SupervisordStartError extends MupError {
  constructor(host: string, detail: string) {
    super(`supervisord did not start on ${host}: ${detail}`, {
      hint: 'see supervisord.log in the cluster supervisor directory',
    });
  }
}

export type ProgramFailure =
  | 'exited-during-startup'
  | 'no-such-binary'
  | 'not-executable'
  | 'stopped-while-starting'
  | 'unknown-program'
  | 'did-not-reach-running'
  | 'held-by-another-process'
  | 'stop-failed';

/** A program operation failed; carries the last lines of its captured output and of the MongoDB log. */
export class ProgramError extends MupError {
  readonly program: string;
  readonly failure: ProgramFailure;
  readonly outputTail: string;
  readonly logTail: string;

  constructor(
    program: string,
    failure: ProgramFailure,
    detail: string,
    tails: { output?: string; log?: string } = {},
    cause?: unknown,
  ) {
    const output = tails.output?.trimEnd() ?? '';
    const log = tails.log?.trimEnd() ?? '';
    const sections = [`${program}: ${detail}`];
    if (output !== '') sections.push(`--- last output of ${program} ---\n${output}`);
    if (log !== '') sections.push(`--- last lines of the MongoDB log ---\n${log}`);
    super(sections.join('\n'), { hint: HINTS[failure], cause });
    this.program = program;
    this.failure = failure;
    this.outputTail = output;
    this.logTail = log;
  }
}

const HINTS: Record<ProgramFailure, string> = {
  'exited-during-startup': 'the process exited before it was up; its output above says why',
  'no-such-binary': 'the binary is missing: reinstall the version or check the deploy dir',
  'not-executable': 'the binary is not executable: check its mode and the file system (noexec?)',
  'stopped-while-starting': 'another command stopped the process while it was starting; retry',
  'unknown-program': 'supervisor.ini does not define this program: reload the supervisor config',
  'did-not-reach-running': 'the process did not reach RUNNING in time; see its output above',
  'stop-failed': 'the process could not be stopped; see its output above',
  'held-by-another-process':
    'a process left by a killed supervisord (or started by hand) holds it: adopt it, or stop it by pid and start again',
};
