// End-to-end helpers: a scratch environment (MUP_HOME, HOME, simulated binaries) and the built CLI.
// Each test file deploys from its own --port-base between 20000 and 26000: below Linux's ephemeral range
// (32768-60999), so an outgoing connection never takes a port between allocation and start, and apart
// from each other so files can run at the same time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MupRun, runMup, tempDir } from './cli.js';
import { simBinaryDir } from './sim.js';

export interface E2eEnv {
  /** MUP_HOME */
  home: string;
  /** HOME of the mup process: relative deploy dirs land under it. */
  userHome: string;
  binDir: string;
  version: string;
  mup(args: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<MupRun>;
  /** Runs mup, expects exit 0, returns the parsed --json document. */
  mupJson<T = Record<string, unknown>>(args: readonly string[], options?: { timeoutMs?: number }): Promise<T>;
  /** Arguments of an unattended `cluster deploy` of `topology` with this env's binaries. */
  deployArgs(name: string, topology: string, portBase: number | string): string[];
}

export async function e2eEnv(version = '7.0.14'): Promise<E2eEnv> {
  const home = await tempDir('mup-e2e-home-');
  const userHome = await tempDir('mup-e2e-user-');
  const binDir = await simBinaryDir(version);
  const env = { HOME: userHome };
  const mup = (args: readonly string[], options: { timeoutMs?: number; input?: string } = {}) =>
    runMup(args, {
      home,
      env,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.input ? { input: options.input } : {}),
    });
  return {
    home,
    userHome,
    binDir,
    version,
    mup,
    deployArgs: (name, topology, portBase) => [
      'cluster',
      'deploy',
      name,
      topology,
      '--version',
      version,
      '--binary-path',
      binDir,
      '--yes',
      '--port-base',
      String(portBase),
    ],
    mupJson: async <T>(args: readonly string[], options: { timeoutMs?: number } = {}) => {
      const run = await mup([...args, '--json'], options);
      assert.equal(run.code, 0, `mup ${args.join(' ')} exited ${run.code}\n${run.stderr}`);
      return JSON.parse(run.stdout) as T;
    },
  };
}

export interface DisplayJson {
  schemaVersion: 1;
  cluster: string;
  kind: string;
  status: string;
  uri: string;
  supervisors: { host: string; endpoint: string; state: string; pid?: number }[];
  processes: {
    id: string;
    role: string;
    replicaSet?: string;
    port: number;
    program: string;
    status: string;
    pid?: number;
    restarts: number;
    dataDir?: string;
  }[];
}

/** pids of simulated mongod/mongos processes whose command line mentions `needle` (a config path). */
export function simPidsMatching(needle: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((line) => line.includes('sim/src/main.js') && line.includes(needle))
    .map((line) => Number.parseInt(line.trim(), 10));
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function topologyPath(name: string): string {
  return join(import.meta.dirname, '..', 'fixtures', 'topologies', `${name}.yaml`);
}

/**
 * The quiesce period (ms) each mongod log under `root` recorded at its latest shutdown (log id 4695102,
 * MongoDB 5.0+), by log file relative to `root`; logs without such a line are left out.
 */
export function lastQuiescePeriods(root: string): Map<string, number> {
  const periods = new Map<string, number>();
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('mongod.log')) continue;
    for (const line of readFileSync(join(root, entry), 'utf8').split('\n')) {
      if (!line.includes('"id":4695102')) continue;
      const attr = (JSON.parse(line) as { attr?: { quiesceTimeMillis?: number } }).attr;
      if (typeof attr?.quiesceTimeMillis === 'number') periods.set(entry, attr.quiesceTimeMillis);
    }
  }
  return periods;
}
