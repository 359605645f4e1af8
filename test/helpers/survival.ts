// Shared by the survival end-to-end tests (a lost supervisord, a host reboot): deploys with a short quiesce,
// an availability sampler, the kill -9 of a cluster's supervisord under a majority writer, and readers of the
// supervisor.ini autostart values and of the user's crontab.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hello } from '../../src/mongo/connect.js';
import { type DisplayJson, type E2eEnv, simPidsMatching, waitFor } from './e2e.js';
import { describeFailures, lostWrites, startWriter } from './writer.js';

export const QUIESCE = [
  'server_configs:',
  '  mongod:',
  '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
  '  mongos:',
  '    setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 500 }',
];

export async function deploy(env: E2eEnv, name: string, lines: string[], portBase: number): Promise<void> {
  const topology = join(env.home, `${name}.yaml`);
  await writeFile(topology, ['global:', `  deploy_dir: ${name}`, ...QUIESCE, ...lines, ''].join('\n'));
  const run = await env.mup(env.deployArgs(name, topology, portBase), { timeoutMs: 300_000 });
  assert.equal(run.code, 0, run.stderr);
}

export async function display(env: E2eEnv, name: string): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', name]);
}

/** Whether the process on `port` answers hello (10 s: a loaded machine is slow, a stopped process refuses). */
export async function answers(port: number): Promise<boolean> {
  try {
    await hello({ host: '127.0.0.1', port }, { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export interface Sampler {
  stop(): Promise<{ samples: number; failures: string[] }>;
}

/**
 * Every 100 ms (after the previous sample ended): does a majority of each replica set, and at least one
 * mongos, answer hello? Records each sample that fails. Bounded in time and count.
 */
export function sampleAvailability(view: DisplayJson): Sampler {
  const sets = new Map<string, number[]>();
  for (const p of view.processes)
    if (p.replicaSet !== undefined) sets.set(p.replicaSet, [...(sets.get(p.replicaSet) ?? []), p.port]);
  const routers = view.processes.filter((p) => p.role === 'mongos').map((p) => p.port);
  const failures: string[] = [];
  let samples = 0;
  let stopped = false;
  const deadline = Date.now() + 15 * 60_000;
  const loop = (async () => {
    while (!stopped && Date.now() < deadline && samples < 20_000) {
      samples += 1;
      const checks = await Promise.all([
        ...[...sets].map(async ([set, ports]) => {
          const up = (await Promise.all(ports.map(answers))).filter(Boolean).length;
          return up * 2 > ports.length ? undefined : `${set}: ${up}/${ports.length} answered`;
        }),
        (async () => {
          if (routers.length === 0) return undefined;
          const up = (await Promise.all(routers.map(answers))).filter(Boolean).length;
          return up > 0 ? undefined : 'no mongos answered';
        })(),
      ]);
      const failed = checks.filter((c) => c !== undefined);
      if (failed.length > 0) failures.push(`sample ${samples}: ${failed.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { samples, failures };
    },
  };
}

export async function killSupervisord(env: E2eEnv, name: string): Promise<DisplayJson> {
  const view = await display(env, name);
  const daemonPid = view.supervisors[0]?.pid;
  assert.ok(daemonPid, 'supervisord runs');
  process.kill(daemonPid, 'SIGKILL');
  await waitFor('supervisord to be gone', async () =>
    (await display(env, name)).supervisors[0]?.state !== 'running' ? true : undefined,
  );
  return view;
}

/** kill -9 supervisord under a majority writer, `cluster start`, and check availability, writes and pids. */
export async function survivesLostSupervisord(env: E2eEnv, name: string, uri: string): Promise<void> {
  const root = join(env.userHome, name);
  const view = await killSupervisord(env, name);
  const members = simPidsMatching(root);
  assert.equal(members.length, view.processes.length, 'the members outlive their supervisord');

  const dry = await env.mup(['cluster', 'start', name, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /hand .* back to supervisord/);
  assert.deepEqual(simPidsMatching(root).sort(), members.sort(), 'a dry run changes nothing');

  const writer = await startWriter(uri);
  const sampler = sampleAvailability(view);
  let start: Awaited<ReturnType<E2eEnv['mup']>>;
  try {
    await writer.waitForWrites(20);
    start = await env.mup(['cluster', 'start', name], { timeoutMs: 600_000 });
    await writer.waitForWrites(writer.acknowledgedCount() + 20);
  } finally {
    const availability = await sampler.stop();
    const report = await writer.stop();
    assert.deepEqual(availability.failures, [], `${availability.samples} samples`);
    assert.ok(availability.samples > 10, `sampled ${availability.samples} times`);
    assert.deepEqual(await lostWrites(uri, report), [], 'no acknowledged majority write lost');
    assert.ok(report.acknowledged.length > 40, `acknowledged ${report.acknowledged.length}`);
    // A failed write is not a lost one, but the hand-back steps each primary down first: say how many.
    process.stderr.write(
      `${name}: ${availability.samples} samples, ${report.acknowledged.length} writes acknowledged, failures: ${describeFailures(report)}\n`,
    );
  }
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stderr, /hand .* back to supervisord/);
  const after = await display(env, name);
  assert.equal(after.supervisors[0]?.state, 'running');
  const pids = simPidsMatching(root);
  assert.equal(pids.length, view.processes.length, 'exactly one process per member');
  for (const p of after.processes) {
    assert.match(p.status, /^Up/, `${p.id} is up`);
    assert.ok(p.pid !== undefined && pids.includes(p.pid), `${p.id} runs under supervisord`);
    assert.ok(!members.includes(p.pid), `${p.id} was restarted under supervisord`);
  }
}

/** `autostart` of each program in the cluster's supervisor.ini. */
export async function autostartOf(root: string): Promise<Map<string, string>> {
  const text = await readFile(join(root, 'supervisor', 'supervisor.ini'), 'utf8');
  const values = new Map<string, string>();
  for (const [, name, body] of text.matchAll(/\[program:([^\]]+)\]\n([^[]*)/g))
    values.set(name ?? '', /^autostart=(\w+)$/m.exec(body ?? '')?.[1] ?? 'absent');
  return values;
}

/** The crontab's @reboot line under the cluster's marker, and the marker itself. */
export function bootEntryOf(name: string, root: string): string | undefined {
  const lines = (readCrontab() ?? '').split('\n');
  const marker = lines.findIndex(
    (l) => l.startsWith(`# mup cluster ${name}:`) && l.includes(join(root, 'supervisor', 'supervisor.ini')),
  );
  return marker < 0 ? undefined : lines[marker + 1];
}

export function readCrontab(): string | undefined {
  const listed = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout : undefined;
}
