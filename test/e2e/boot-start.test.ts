// A host reboot: deploy put an @reboot line in the user's crontab (here root's; every line these tests add is
// removed after, whatever happens); run as cron would, it brings the members back with their data, without
// mup. stop/start keep supervisor.ini's autostart in step; destroy removes the entry; --no-boot-start plans none.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { hello } from '../../src/mongo/connect.js';
import {
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  waitFor,
} from '../helpers/e2e.js';
import { isAlive, supervisordPidsFor } from '../helpers/processes.js';
import { autostartOf, bootEntryOf, display, QUIESCE, readCrontab } from '../helpers/survival.js';

const PORT_BASE = e2ePortBase();
let env: E2eEnv;

/** Removes the crontab lines that contain `needle` (under mup's own crontab lock: other editors lose nothing). */
function removeCrontabLines(needle: string): void {
  const script = [
    'kept=$(crontab -l 2>/dev/null | grep -v -F -- "$1")',
    'if [ -z "$kept" ]; then crontab -r 2>/dev/null || true; else printf "%s\\n" "$kept" | crontab -; fi',
  ].join('\n');
  const lock = `/tmp/mup-crontab-${process.getuid?.() ?? 0}.lock`;
  execFileSync('flock', ['-w', '30', lock, '/bin/sh', '-c', script, 'sh', needle]);
}

before(async () => {
  // A run of this file killed before its `after` (a timeout) leaves its lines, and the runner killed its
  // supervisord: an entry of a test HOME whose daemon no longer runs is such a leftover.
  for (const [, ini] of (readCrontab() ?? '').matchAll(/\((\/tmp\/mup-e2e-user-[^)]+\/supervisor\.ini)\)$/gm))
    if (ini !== undefined && supervisordPidsFor(ini).length === 0) removeCrontabLines(ini);
  env = await e2eEnv();
});

after(async () => {
  try {
    await destroyAllClusters(env);
  } finally {
    // Never leave the user's crontab changed, even when a test or the destroy failed: every line this file
    // can have added names a path under its own HOME, and only those go. (Not compared with a copy taken
    // before: another test file may hold an entry of its own right now.)
    removeCrontabLines(env.userHome);
    assert.ok(!(readCrontab() ?? '').includes(env.userHome), 'no entry of these tests is left');
  }
});

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
  const args = env.deployArgs(name, topology, PORT_BASE).filter((a) => a !== '--no-boot-start');
  const deployed = await env.mup(args, { timeoutMs: 300_000 });
  assert.equal(deployed.code, 0, deployed.stderr);

  const entry = bootEntryOf(name, root);
  assert.match(entry ?? '', /^@reboot \/\S*supervisord -c \S+supervisor\.ini$/);
  const view = await display(env, name);
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
  const back = await display(env, name);
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

  // destroy removes the entry.
  const destroy = await env.mup(['cluster', 'destroy', name, '--yes'], { timeoutMs: 180_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(bootEntryOf(name, root), undefined, 'destroy removed the entry');
  assert.ok(!(readCrontab() ?? '').includes(root), 'no line of this cluster is left');
});

test('--no-boot-start: the deploy plan registers nothing at boot; without it the plan says it will', async () => {
  const topology = join(env.home, 'plain.yaml');
  await writeFile(topology, 'mongod_servers:\n  - { host: localhost, port: 0 }\n');
  const plan = async (extra: string[]) => {
    const args = env.deployArgs('surv-plan', topology, PORT_BASE + 50).filter((a) => a !== '--no-boot-start');
    const run = await env.mup([...args, ...extra, '--dry-run', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const outline = JSON.parse(run.stdout) as { plan: { phases: { steps: { id: string }[] }[] } };
    return outline.plan.phases.flatMap((p) => p.steps.map((s) => s.id));
  };
  assert.ok((await plan([])).includes('boot:localhost'));
  assert.ok(!(await plan(['--no-boot-start'])).some((id) => id.startsWith('boot:')));
  assert.equal(readCrontab()?.includes('surv-plan') ?? false, false, 'a dry run writes nothing');
});
