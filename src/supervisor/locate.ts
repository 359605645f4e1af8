// Finds the supervisord executable on a host: MUP_SUPERVISORD first, then PATH.
import type { Executor } from '../hosts/executor.js';
import { SupervisordNotFoundError } from './errors.js';

export interface LocateOptions {
  /** Overrides MUP_SUPERVISORD of this process's environment; applies to local hosts only. */
  override?: string | undefined;
}

export async function locateSupervisord(executor: Executor, options: LocateOptions = {}): Promise<string> {
  const override = 'override' in options ? options.override : process.env.MUP_SUPERVISORD;
  if (override !== undefined && override !== '' && executor.local) {
    if (await isExecutable(executor, override)) return override;
    throw new SupervisordNotFoundError(
      executor.host,
      `MUP_SUPERVISORD=${override} is not an executable file`,
    );
  }
  // `command -v` is the POSIX way to search PATH, and it works the same through SSH.
  const found = await executor.run('/bin/sh', ['-c', 'command -v supervisord'], { timeoutMs: 10_000 });
  const path = found.stdout.trim().split('\n')[0] ?? '';
  if (found.exitCode === 0 && path.startsWith('/')) return path;
  throw new SupervisordNotFoundError(executor.host, 'not in MUP_SUPERVISORD nor on PATH');
}

async function isExecutable(executor: Executor, path: string): Promise<boolean> {
  const test = await executor.run('test', ['-f', path, '-a', '-x', path], { timeoutMs: 10_000 });
  return test.exitCode === 0;
}
