// --binary-path DIR: use an existing directory of binaries as is, after checking that it holds mongod and
// mongos and that both report the expected version (`mongod --version` prints "db version v7.0.14" first,
// `mongos --version` prints "mongos version v7.0.14").
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BinaryPathError } from './errors.js';

export interface CheckedBinaryPath {
  dir: string;
  version: string;
  binaries: { mongod: string; mongos: string };
}

export function parseVersionOutput(program: 'mongod' | 'mongos', output: string): string | undefined {
  const firstLine = output.split('\n').find((line) => line.trim() !== '') ?? '';
  const pattern = program === 'mongod' ? /^db version v(\S+)/ : /^mongos version v(\S+)/;
  return pattern.exec(firstLine.trim())?.[1];
}

function versionMatches(actual: string, expected: string): boolean {
  // "7.0" accepts any 7.0.x; an exact version must match exactly.
  return /^\d+\.\d+$/.test(expected) ? actual.startsWith(`${expected}.`) : actual === expected;
}

function runVersion(path: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(path, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BinaryPathError(`${path} --version did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new BinaryPathError(`cannot run ${path}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

export async function checkBinaryPath(
  dir: string,
  expectedVersion: string | undefined,
  options: { timeoutMs?: number } = {},
): Promise<CheckedBinaryPath> {
  const root = resolve(dir);
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new BinaryPathError(`--binary-path ${root} is not a directory`);
  }
  const binaries = { mongod: join(root, 'mongod'), mongos: join(root, 'mongos') };
  const programs = ['mongod', 'mongos'] as const;
  for (const program of programs) {
    try {
      await access(binaries[program], constants.X_OK);
    } catch {
      throw new BinaryPathError(`${root} has no executable ${program}`);
    }
  }
  // Both at once: each --version is a process start.
  const reports = await Promise.all(
    programs.map(async (program) => {
      const { code, output } = await runVersion(binaries[program], options.timeoutMs ?? 10_000);
      const reported = parseVersionOutput(program, output);
      if (code !== 0 || reported === undefined)
        throw new BinaryPathError(
          `${binaries[program]} --version did not report a version (exit ${code}): ${output.trim().split('\n')[0] ?? ''}`,
        );
      return reported;
    }),
  );
  // Without a requested version, whatever mongod reports, as long as mongos is the same release.
  const expected = expectedVersion ?? reports[0] ?? '';
  programs.forEach((program, i) => {
    const reported = reports[i] ?? '';
    if (!versionMatches(reported, expected))
      throw new BinaryPathError(
        `${binaries[program]} is version ${reported}, expected ${expected}`,
        expectedVersion === undefined
          ? 'mongod and mongos in --binary-path must come from the same release'
          : 'point --binary-path at binaries of the requested version, or change the requested version',
      );
  });
  const version = reports[0] ?? expected;
  return { dir: root, version, binaries };
}
