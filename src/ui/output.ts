// The only module that writes to the terminal. Results go to stdout (one JSON document in --json mode);
// progress, warnings and errors go to stderr so that stdout stays parseable.
import { stderrColors } from './colors.js';

export interface OutputOptions {
  json: boolean;
  debug: boolean;
}

export function writeResult(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function writeJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

export function writeNotice(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function writeWarning(text: string): void {
  const pc = stderrColors();
  process.stderr.write(`${pc.yellow('warning:')} ${text}\n`);
}

export interface ErrorReport {
  /** Stable machine-readable name, e.g. `cluster-not-found`, `usage`, `locked`. */
  code: string;
  message: string;
  hint?: string | undefined;
  exitCode: number;
  stack?: string | undefined;
}

/**
 * In --json mode the error is the one JSON document on stdout, where a script reads the result
 * (`{"error": {code, message, hint, exitCode}}`); otherwise it goes to stderr as `Error:` and `hint:` lines.
 */
export function writeError(report: ErrorReport, options: OutputOptions): void {
  if (options.json) {
    const { code, message, hint, exitCode } = report;
    writeJson({ error: { code, message, ...(hint === undefined ? {} : { hint }), exitCode } });
    if (options.debug && report.stack) process.stderr.write(`${report.stack}\n`);
    return;
  }
  const pc = stderrColors();
  process.stderr.write(`${pc.red('Error:')} ${report.message}\n`);
  if (report.hint) process.stderr.write(`${pc.dim('hint:')} ${report.hint}\n`);
  if (options.debug && report.stack) process.stderr.write(`${pc.dim(report.stack)}\n`);
}
