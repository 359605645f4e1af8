// Runs the built mup CLI (dist/) as a user would, in a temporary MUP_HOME unless one is given.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

const created: string[] = [];

/**
 * A new directory under the system temp dir, removed when the test process exits (set MUP_KEEP_TEST_DIRS=1
 * to keep them for a look after a failure). Tests stop what they started before that.
 */
export async function tempDir(prefix = 'mup-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (created.length === 0 && process.env.MUP_KEEP_TEST_DIRS !== '1')
    process.once('exit', () => {
      for (const d of created) rmSync(d, { recursive: true, force: true });
    });
  created.push(dir);
  return dir;
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
