// Typed errors shared by every layer. The CLI maps `exitCode` to the process exit status
// and prints `message` plus `hint`; a stack trace is shown only with --debug.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  locked: 3,
  resumable: 4,
  /** SIGINT/SIGTERM: the running step was abandoned and journaled; `mup cluster resume` continues. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class MupError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  /**
   * A stable machine-readable name for scripts (the `code` of a --json error): given, or made from the
   * class name, e.g. ClusterNotFoundError → `cluster-not-found`.
   */
  readonly errorCode: string;

  constructor(
    message: string,
    options: { exitCode?: ExitCode; hint?: string; cause?: unknown; code?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failed;
    this.hint = options.hint;
    this.errorCode = options.code ?? codeFromClassName(new.target.name);
  }
}

/** `ClusterNotFoundError` → `cluster-not-found`; the base class is plain `failed`. */
export function codeFromClassName(className: string): string {
  const stem = className.replace(/Error$/, '');
  if (stem === 'Mup' || stem === '') return 'failed';
  return stem.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Bad command-line usage or bad input files: nothing was changed. Exit 2. */
export class UsageError extends MupError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, ...(hint === undefined ? {} : { hint }) });
  }
}
