// Runs the built mup CLI (dist/) as a user would, in a temporary MUP_HOME unless one is given.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir as simTempDir } from '../../sim/test/helpers/sim.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const mupBin = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface MupRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MupRunOptions {
  home?: string;
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/**
 * A new directory under the system temp dir, removed when the test process exits (MUP_KEEP_TEST_DIRS=1 keeps
 * it): the simulator tests' helper, with mup's prefix.
 */
export function tempDir(prefix = 'mup-test-'): Promise<string> {
  return simTempDir(prefix);
}

export async function runMup(args: readonly string[], options: MupRunOptions = {}): Promise<MupRun> {
  const home = options.home ?? (await tempDir('mup-home-'));
  const child = spawn(process.execPath, [mupBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', MUP_HOME: home, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const code = await new Promise<number>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mup ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolvePromise(exitCode ?? -1);
    });
  });
  return { code, stdout, stderr };
}
