// A host's supervisord lost (kill -9): the mongods keep serving as orphans, and `cluster start` hands them back
// to a new daemon one replica-set member at a time — never an outage, never a lost majority write, never two
// processes for one member. Sampled every 100 ms through the whole start.
// A host reboot: deploy put an @reboot line in the user's crontab (here root's, backed up before and put back
// after, whatever happens); run as cron would, it brings the members back with their data, without mup.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { hello } from '../../src/mongo/connect.js';
import {
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  waitFor,
} from '../helpers/e2e.js';
import { portClosed, runMupKilledWhen } from '../helpers/interrupt.js';
import { isAlive, supervisordPidsFor } from '../helpers/processes.js';
import { describeFailures, lostWrites, startWriter } from '../helpers/writer.js';

const PORT_BASE = e2ePortBase();
let env: E2eEnv;

const QUIESCE = [
  'server_configs:',
  '  mongod:',
  '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
  '  mongos:',
  '    setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 500 }',
];

/** The user's crontab before the tests: its text, or undefined when there was none. */
let savedCrontab: string | undefined;

function readCrontab(): string | undefined {
  const listed = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout : undefined;
}

before(async () => {
  savedCrontab = readCrontab();
  env = await e2eEnv();
});

after(async () => {
  try {
    await destroyAllClusters(env);
  } finally {
    // Never leave the user's crontab changed, even when a test or the destroy failed.
    if (savedCrontab === undefined) spawnSync('crontab', ['-r']);
    else execFileSync('crontab', ['-'], { input: savedCrontab });
  }
});

async function deploy(name: string, lines: string[], portBase: number): Promise<void> {
  const topology = join(env.home, `${name}.yaml`);
  await writeFile(topology, ['global:', `  deploy_dir: ${name}`, ...QUIESCE, ...lines, ''].join('\n'));
  const run = await env.mup(env.deployArgs(name, topology, portBase), { timeoutMs: 300_000 });
  assert.equal(run.code, 0, run.stderr);
}

async function display(name: string): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', name]);
}

/** Whether the process on `port` answers hello (10 s: a loaded machine is slow, a stopped process refuses). */
async function answers(port: number): Promise<boolean> {
  try {
    await hello({ host: '127.0.0.1', port }, { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

interface Sampler {
  stop(): Promise<{ samples: number; failures: string[] }>;
}

/**
 * Every 100 ms (after the previous sample ended): does a majority of each replica set, and at least one
 * mongos, answer hello? Records each sample that fails. Bounded in time and count.
 */
function sampleAvailability(view: DisplayJson): Sampler {
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

async function killSupervisord(name: string): Promise<DisplayJson> {
  const view = await display(name);
  const daemonPid = view.supervisors[0]?.pid;
  assert.ok(daemonPid, 'supervisord runs');
  process.kill(daemonPid, 'SIGKILL');
  await waitFor('supervisord to be gone', async () =>
    (await display(name)).supervisors[0]?.state !== 'running' ? true : undefined,
  );
  return view;
}

/** kill -9 supervisord under a majority writer, `cluster start`, and check availability, writes and pids. */
async function survivesLostSupervisord(name: string, uri: string): Promise<void> {
  const root = join(env.userHome, name);
  const view = await killSupervisord(name);
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
  const after = await display(name);
  assert.equal(after.supervisors[0]?.state, 'running');
  const pids = simPidsMatching(root);
  assert.equal(pids.length, view.processes.length, 'exactly one process per member');
  for (const p of after.processes) {
    assert.match(p.status, /^Up/, `${p.id} is up`);
    assert.ok(p.pid !== undefined && pids.includes(p.pid), `${p.id} runs under supervisord`);
    assert.ok(!members.includes(p.pid), `${p.id} was restarted under supervisord`);
  }
}

test('replica set: kill -9 supervisord, then start hands the members back one at a time', async () => {
  const name = 'surv-rs';
  await deploy(
    name,
    [
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
    ],
    PORT_BASE,
  );
  const { uri } = await display(name);
  await survivesLostSupervisord(name, uri);
});

test('replica set: mup killed while a member is between its orphan and supervisord; resume finishes the hand-back', async () => {
  const name = 'surv-rs';
  const root = join(env.userHome, name);
  const view = await killSupervisord(name);
  const orphans = simPidsMatching(root);
  assert.equal(orphans.length, 3);
  const portOf = (step: string) => view.processes.find((p) => step === `adopt:${p.id}`)?.port;
  let adopted = 0;
  const run = await runMupKilledWhen(['cluster', 'start', name], {
    home: env.home,
    env: { HOME: env.userHome },
    // The second member handed back: its orphan has stopped, supervisord has not started it yet.
    armAfter: (event) => event.step.startsWith('adopt:') && event.state === 'running' && ++adopted === 2,
    condition: async (armedBy) => portClosed(portOf(armedBy.step) ?? 0),
    timeoutMs: 300_000,
  });
  assert.ok(run.killed, `mup was killed mid-hand-back (exit ${run.code})\n${run.stderr}`);
  assert.ok(simPidsMatching(root).length <= 3, 'never two processes for one member');

  const resume = await env.mup(['cluster', 'resume', name], { timeoutMs: 300_000 });
  assert.equal(resume.code, 0, resume.stderr);
  const after = await display(name);
  const pids = simPidsMatching(root);
  assert.equal(pids.length, 3, 'exactly one process per member');
  assert.deepEqual(after.processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  for (const p of after.processes) {
    assert.ok(p.pid !== undefined && pids.includes(p.pid), `${p.id} runs under supervisord`);
    assert.ok(!orphans.includes(p.pid), `${p.id} was handed back`);
  }
});

test('sharded: kill -9 supervisord, then start keeps a majority of every set and a mongos serving', async () => {
  const name = 'surv-sh';
  await deploy(
    name,
    [
      'config_servers:',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      'mongos_servers:',
      '  - { host: localhost, port: 0 }',
      '  - { host: localhost, port: 0 }',
    ],
    PORT_BASE + 20,
  );
  const { uri } = await display(name);
  await survivesLostSupervisord(name, uri);
});

/** `autostart` of each program in the cluster's supervisor.ini. */
async function autostartOf(root: string): Promise<Map<string, string>> {
  const text = await readFile(join(root, 'supervisor', 'supervisor.ini'), 'utf8');
  const values = new Map<string, string>();
  for (const [, name, body] of text.matchAll(/\[program:([^\]]+)\]\n([^[]*)/g))
    values.set(name ?? '', /^autostart=(\w+)$/m.exec(body ?? '')?.[1] ?? 'absent');
  return values;
}

/** The crontab's @reboot line under the cluster's marker, and the marker itself. */
function bootEntryOf(name: string, root: string): string | undefined {
  const lines = (readCrontab() ?? '').split('\n');
  const marker = lines.findIndex(
    (l) => l.startsWith(`# mup cluster ${name}:`) && l.includes(join(root, 'supervisor', 'supervisor.ini')),
  );
  return marker < 0 ? undefined : lines[marker + 1];
}

test('host reboot: the @reboot entry alone brings the members back with their data; stop and start keep autostart in step; destroy removes the entry', async () => {
  const name = 'surv-boot';
  const root = join(env.userHome, name);
  const topology = join(env.home, `${name}.yaml`);
  await writeFile(
    topology,
    [
      'global:',
      `  deploy_dir: ${name}`,
      ...QUIESCE,
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '  - { host: localhost, port: 0, replica_set: rs0 }',
      '',
    ].join('\n'),
  );
  const args = env.deployArgs(name, topology, PORT_BASE + 40).filter((a) => a !== '--no-boot-start');
  const deployed = await env.mup(args, { timeoutMs: 300_000 });
  assert.equal(deployed.code, 0, deployed.stderr);

  const entry = bootEntryOf(name, root);
  assert.match(entry ?? '', /^@reboot \/\S*supervisord -c \S+supervisor\.ini$/);
  const view = await display(name);
  assert.match(view.supervisors[0]?.boot ?? '', /^crontab @reboot /);
  assert.deepEqual(
    [...(await autostartOf(root)).values()],
    ['true', 'true', 'true'],
    'deploy records that every program should run',
  );
  const shown = await env.mup(['cluster', 'display', name]);
  assert.match(shown.stdout, /Boot start: localhost crontab @reboot/);

  // Data written with w:majority before the "reboot".
  const client = new MongoClient(view.uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    await client
      .db('mup_e2e')
      .collection<{ _id: number }>('boot')
      .insertMany(
        Array.from({ length: 50 }, (_, i) => ({ _id: i })),
        { writeConcern: { w: 'majority' } },
      );
  } finally {
    await client.close();
  }

  // The reboot: every process of the cluster dies at once, supervisord first.
  const daemons = supervisordPidsFor(join(root, 'supervisor', 'supervisor.ini'));
  const members = simPidsMatching(root);
  assert.equal(daemons.length, 1);
  assert.equal(members.length, 3);
  for (const pid of [...daemons, ...members]) process.kill(pid, 'SIGKILL');
  await waitFor('every process to be gone', async () =>
    [...daemons, ...members].some(isAlive) ? undefined : true,
  );

  // cron runs the line with /bin/sh, a minimal environment and `\%` unescaped.
  const command = (entry ?? '').replace(/^@reboot /, '').replaceAll('\\%', '%');
  const booted = spawnSync('/bin/sh', ['-c', command], {
    env: { HOME: '/root', LOGNAME: 'root', SHELL: '/bin/sh', PATH: '/usr/bin:/bin' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(booted.status, 0, `${command}: ${booted.stderr}`);

  // No mup command from here on: the members come back, elect a primary and still hold the data.
  const ports = view.processes.map((p) => p.port);
  await waitFor(
    'every member back as PRIMARY or SECONDARY',
    async () => {
      const states = await Promise.all(
        ports.map(async (port) => {
          const reply = await hello({ host: '127.0.0.1', port }, { timeoutMs: 5000 }).catch(() => undefined);
          return reply?.ismaster === true ? 'P' : reply?.secondary === true ? 'S' : undefined;
        }),
      );
      return states.filter((s) => s === 'P').length === 1 && states.every((s) => s !== undefined)
        ? true
        : undefined;
    },
    180_000,
  );
  const reader = new MongoClient(view.uri, {
    serverSelectionTimeoutMS: 30_000,
    readConcernLevel: 'majority',
  });
  try {
    const count = await reader.db('mup_e2e').collection('boot').countDocuments({});
    assert.equal(count, 50, 'the data written before the reboot is there');
  } finally {
    await reader.close();
  }
  const restarted = simPidsMatching(root);
  assert.equal(restarted.length, 3, 'one process per member');
  for (const pid of restarted) assert.ok(!members.includes(pid));
  assert.equal(supervisordPidsFor(join(root, 'supervisor', 'supervisor.ini')).length, 1);
  const back = await display(name);
  assert.equal(back.supervisors[0]?.state, 'running');
  for (const p of back.processes)
    assert.ok(p.pid !== undefined && restarted.includes(p.pid), `${p.id} supervised`);

  // stop records that nothing should run; start that everything should.
  const stop = await env.mup(['cluster', 'stop', name, '--yes'], { timeoutMs: 180_000 });
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual([...(await autostartOf(root)).values()], ['false', 'false', 'false']);
  const start = await env.mup(['cluster', 'start', name], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.deepEqual([...(await autostartOf(root)).values()], ['true', 'true', 'true']);
  // A partial stop: only that program stops being started at boot.
  const one = view.processes[0]?.id ?? '';
  const partial = await env.mup(['cluster', 'stop', name, '-N', one], { timeoutMs: 180_000 });
  assert.equal(partial.code, 0, partial.stderr);
  const partialState = await autostartOf(root);
  assert.equal(partialState.get(view.processes[0]?.program ?? ''), 'false');
  assert.deepEqual(
    [...partialState.values()].filter((v) => v === 'true').length,
    2,
    'the others still start at boot',
  );

  // The clusters deployed with --no-boot-start have no entry; destroy removes this one.
  for (const other of ['surv-rs', 'surv-sh']) {
    assert.equal(bootEntryOf(other, join(env.userHome, other)), undefined, `${other}: no entry`);
    const otherView = await display(other).catch(() => undefined);
    if (otherView) assert.equal(otherView.supervisors[0]?.boot, 'none');
  }
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 180_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(bootEntryOf(name, root), undefined, 'destroy removed the entry');
  assert.ok(!(readCrontab() ?? '').includes(`# mup cluster ${name}:`));
});
