// End-to-end helpers: a scratch environment (MUP_HOME, HOME, simulated binaries) and the built CLI.
// Each test file deploys from its own --port-base, a block of the tests' port registry
// (sim/test/helpers/ports.ts): below Linux's ephemeral range, and apart from every other file running.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reservePortRange } from '../../sim/test/helpers/ports.js';
import { type MupRun, runMup, tempDir } from './cli.js';
import { pidsWhoseArgs } from './processes.js';
import { simBinaryDir } from './sim.js';

/** `--allow-root` when the tests run as root (mup refuses to run mongod as root without it), else nothing. */
export const ALLOW_ROOT: readonly string[] = process.getuid?.() === 0 ? ['--allow-root'] : [];

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
  /**
   * Arguments of an unattended `cluster deploy` of `topology` with this env's binaries, without auth (these
   * tests reach the members with their own unauthenticated clients; test/e2e/auth*.test.ts cover auth).
   */
  deployArgs(name: string, topology: string, portBase: number | string): string[];
  /** The same with auth on (the default of `cluster deploy`). */
  authDeployArgs(name: string, topology: string, portBase: number | string): string[];
}

export async function e2eEnv(version = '7.0.14'): Promise<E2eEnv> {
  const home = await tempDir('mup-e2e-home-');
  const userHome = await tempDir('mup-e2e-user-');
  const binDir = await simBinaryDir(version);
  const env = { HOME: userHome };
  const authDeployArgs = (name: string, topology: string, portBase: number | string) => [
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
    // The host's crontab (root's, here) is shared by every test: only the tests of boot start write it.
    '--no-boot-start',
    // The tests run as root: their processes run as root too, which mup refuses without this.
    ...ALLOW_ROOT,
  ];
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
    deployArgs: (name, topology, portBase) => [...authDeployArgs(name, topology, portBase), '--no-auth'],
    authDeployArgs: (name, topology, portBase) => authDeployArgs(name, topology, portBase),
    mupJson: async <T>(args: readonly string[], options: { timeoutMs?: number } = {}) => {
      // display/status probe each process with a 1.5 s timeout: on a loaded machine a probe that times out
      // shows a settled process as Unknown (nothing answered) or Starting (supervisord runs it, hello did
      // not answer). No test expects those, so such a view is read again (bounded) rather than asserted on.
      const settles = isDisplayCommand(args);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const run = await mup([...args, '--json'], options);
        assert.equal(run.code, 0, `mup ${args.join(' ')} exited ${run.code}\n${run.stderr}`);
        const parsed = JSON.parse(run.stdout) as T;
        if (!settles || !hasUnsettledRow(parsed) || Date.now() > deadline) return parsed;
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  };
}

function isDisplayCommand(args: readonly string[]): boolean {
  return (
    (args[0] === 'cluster' && args[1] === 'display') || (args[0] === 'playground' && args[1] === 'status')
  );
}

function hasUnsettledRow(view: unknown): boolean {
  const processes = (view as { processes?: { status?: string }[] }).processes ?? [];
  return processes.some((p) => p.status === 'Unknown' || p.status === 'Starting');
}

export interface DisplayJson {
  schemaVersion: 1;
  cluster: string;
  kind: string;
  status: string;
  uri: string;
  supervisors: {
    host: string;
    endpoint: string;
    state: string;
    pid?: number;
    boot?: string;
    error?: string;
  }[];
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
  return pidsWhoseArgs((args) => args.includes('sim/src/main.js') && args.includes(needle));
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

/**
 * Cleanup for `after` hooks: destroys the cluster if its meta is still there and throws when destroy fails,
 * so a cluster left running (supervisord, mongods) fails the run instead of leaking silently.
 */
export async function destroyCluster(env: E2eEnv, name: string, timeoutMs = 180_000): Promise<void> {
  if (!existsSync(join(env.home, 'storage', 'clusters', name))) return;
  const run = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs });
  assert.equal(run.code, 0, `cleanup: mup cluster destroy ${name} exited ${run.code}\n${run.stderr}`);
}

/** `destroyCluster` for every cluster still in env's MUP_HOME (playgrounds included); throws after trying all. */
export async function destroyAllClusters(env: E2eEnv, timeoutMs = 180_000): Promise<void> {
  let names: string[] = [];
  try {
    names = readdirSync(join(env.home, 'storage', 'clusters'));
  } catch {
    return;
  }
  const errors: string[] = [];
  for (const name of names)
    await destroyCluster(env, name, timeoutMs).catch((error: unknown) => errors.push(String(error)));
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

/**
 * Sets every running member's signaled-shutdown quiesce (MongoDB's default 15 s) to `ms` at run time, for
 * tests of a topology deployed unchanged: a rolling operation then waits `ms` per process. The value lasts
 * until the process restarts, which is each member's next shutdown (the one it is meant for).
 */
export async function shortenQuiesce(view: DisplayJson, ms = 500): Promise<void> {
  const { MongoClient } = await import('mongodb');
  for (const p of view.processes) {
    if (!p.status.startsWith('Up')) continue;
    const parameter =
      p.role === 'mongos'
        ? 'mongosShutdownTimeoutMillisForSignaledShutdown'
        : 'shutdownTimeoutMillisForSignaledShutdown';
    const client = new MongoClient(`mongodb://127.0.0.1:${p.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 10_000,
    });
    try {
      await client.db('admin').command({ setParameter: 1, [parameter]: ms });
    } finally {
      await client.close();
    }
  }
}

/** The first port of `blocks` × 100 ports reserved for this test file: its --port-base. */
export function e2ePortBase(blocks = 1): number {
  return reservePortRange(blocks);
}
