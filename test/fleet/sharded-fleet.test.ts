// A sharded cluster spread over fleet hosts, one process per host: a config server replica set of 3, shards of
// 3 members and 3 mongos. Deploy over SSH, display with every process up, a rolling restart (the shards' sets
// side by side) under a w:"majority" writer through the mongos that loses nothing, and destroy leaving every
// host as it was.
// 8 shards: 30 hosts, about 6 minutes on 2 busy cores (12 hosts took 4.5: the hosts work side by side).
// MUP_FLEET_SHARDS=2 runs the same on 12 hosts. bench/fleet30.ts times the parts of the 30-host cluster.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DisplayResult } from '../../src/ops/display.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import { simBinaryDir } from '../helpers/sim.js';
import { describeFailures, lostWrites, startWriter } from '../helpers/writer.js';
import { createFleet, destroyFleet, type Fleet, fleetSupported, runOnHost } from './fleet.js';
import { fleetShardedTopology } from './sharded-topology.js';

const supported = fleetSupported();
const VERSION = '7.0.14';
const NAME = 'fleet-sharded';
const SHARDS = shardCount(process.env.MUP_FLEET_SHARDS);
const HOSTS = 3 + SHARDS * 3 + 3;
/** Every set's lanes at once: the rolling restart's bound is --concurrency. */
const CONCURRENCY = String(SHARDS);
const STEP = { timeout: 900_000 };
const DEPLOY_DIR = `/srv/mongodb/${NAME}`;

function shardCount(raw: string | undefined): number {
  if (raw === undefined) return 8;
  const n = Number(raw);
  // 3 + 3n + 3 hosts: the fleet builds at most 40.
  if (!Number.isInteger(n) || n < 2 || n > 11) throw new Error(`MUP_FLEET_SHARDS is 2..11, not ${raw}`);
  return n;
}

interface StepEvent {
  event: string;
  phase?: string;
  step?: string;
  state?: string;
}

describe(`a sharded cluster over SSH on ${HOSTS} hosts`, {
  skip: supported.ok ? false : supported.reason,
}, () => {
  let fleet: Fleet;
  let home: string;
  let userHome: string;
  let binDir: string;
  const mup = (args: readonly string[], timeoutMs = 600_000): Promise<MupRun> =>
    runMup(['-i', fleet.identityFile, ...args], {
      home,
      env: { HOME: userHome, SSH_AUTH_SOCK: '' },
      timeoutMs,
    });

  before(async () => {
    fleet = await createFleet({ hosts: HOSTS, namePrefix: 'n' });
    await Promise.all(
      fleet.hosts.map((host) => runOnHost(host, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`)),
    );
    userHome = await tempDir('mup-fleet-sharded-user-');
    await mkdir(join(userHome, '.ssh'), { mode: 0o700 });
    await writeFile(join(userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
    home = await tempDir('mup-fleet-sharded-home-');
    binDir = await simBinaryDir(VERSION);
  }, STEP);

  after(async () => {
    try {
      if (home !== undefined) {
        const gone = await mup(['cluster', 'destroy', NAME, '--yes']);
        if (gone.code !== 0 && !/not found|no cluster/i.test(gone.stderr)) console.error(gone.stderr);
      }
    } finally {
      if (fleet !== undefined) await destroyFleet(fleet);
    }
  }, STEP);

  async function display(): Promise<DisplayResult> {
    const run = await mup(['cluster', 'display', NAME, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as DisplayResult;
  }

  /** Every process up and every set with one primary (an election after a restart may take a moment). */
  async function settledDisplay(): Promise<DisplayResult> {
    const deadline = Date.now() + 90_000;
    let view = await display();
    for (let i = 0; i < 60 && Date.now() < deadline; i++) {
      if (view.status === 'running' && view.processes.every((p) => p.status.startsWith('Up'))) return view;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      view = await display();
    }
    return view;
  }

  it(`deploys ${HOSTS} processes on ${HOSTS} hosts; display shows all of them up`, STEP, async () => {
    const topology = join(home, `${NAME}.yaml`);
    await writeFile(topology, fleetShardedTopology(fleet.hosts, SHARDS, DEPLOY_DIR));
    const deployed = await mup([
      'cluster',
      'deploy',
      NAME,
      topology,
      '--version',
      VERSION,
      '--binary-path',
      binDir,
      '--concurrency',
      CONCURRENCY,
      '--yes',
      '--json',
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal((JSON.parse(deployed.stdout) as { kind: string }).kind, 'sharded');

    const view = await settledDisplay();
    assert.equal(view.status, 'running', JSON.stringify(view.processes));
    assert.equal(view.processes.length, HOSTS);
    assert.deepEqual(
      new Set(view.processes.map((p) => p.host)),
      new Set(fleet.hosts.map((h) => h.address)),
      'one process on every host',
    );
    for (const p of view.processes) assert.match(p.status, /^Up(\|[PS])?$/, JSON.stringify(p));
    const primaries = view.processes.filter((p) => p.status === 'Up|P').map((p) => p.replicaSet);
    assert.equal(primaries.length, 1 + SHARDS, `one primary per set: ${primaries.join(', ')}`);
    assert.equal(new Set(primaries).size, 1 + SHARDS);
    assert.equal(view.supervisors.length, HOSTS);
    assert.ok(
      view.supervisors.every((s) => s.state === 'running'),
      JSON.stringify(view.supervisors),
    );
  });

  it(
    'a rolling restart runs the shards side by side and loses no w:"majority" write through the mongos',
    STEP,
    async () => {
      const before = await settledDisplay();
      assert.equal(before.status, 'running');
      const credentials = await mup(['cluster', 'credentials', NAME, '--uri']);
      assert.equal(credentials.code, 0, credentials.stderr);
      const uri = credentials.stdout.trim();
      const writer = await startWriter(uri, { maxDurationMs: 600_000 });
      let restarted: MupRun;
      try {
        await writer.waitForWrites(20, 120_000);
        restarted = await mup(['cluster', 'restart', NAME, '--concurrency', CONCURRENCY, '--yes', '--json']);
        await writer.waitForWrites(writer.acknowledgedCount() + 20, 120_000);
      } finally {
        const report = await writer.stop();
        assert.deepEqual(await lostWrites(uri, report), [], describeFailures(report));
        assert.ok(report.acknowledged.length >= 40, `${report.acknowledged.length} writes acknowledged`);
      }
      assert.equal(restarted.code, 0, restarted.stderr);

      // The events on stderr (--json): the shards' members were restarted side by side, config servers first.
      const events = restarted.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as StepEvent)
        .filter((e) => e.event === 'step');
      const inFlight = new Set<string>();
      let mostShardSteps = 0;
      for (const e of events) {
        if (e.phase !== 'restart-shards' || e.step === undefined) continue;
        if (e.state === 'running') inFlight.add(e.step);
        else inFlight.delete(e.step);
        mostShardSteps = Math.max(mostShardSteps, inFlight.size);
      }
      assert.ok(mostShardSteps >= 2, `shard members restarted one at a time: ${mostShardSteps}`);
      assert.ok(mostShardSteps <= SHARDS, `more steps in flight than sets: ${mostShardSteps}`);
      const order = events.filter((e) => e.state === 'done').map((e) => e.phase);
      assert.equal(order.length, HOSTS, `every process restarted once: ${order.length}`);
      assert.equal(order.lastIndexOf('restart-configRS') < order.indexOf('restart-shards'), true);
      assert.equal(order.lastIndexOf('restart-shards') < order.indexOf('restart-mongos'), true);

      const afterView = await settledDisplay();
      assert.equal(afterView.status, 'running', JSON.stringify(afterView.processes));
      const pidBefore = new Map(before.processes.map((p) => [p.id, p.pid]));
      for (const p of afterView.processes) {
        assert.ok(p.pid !== undefined && p.pid !== pidBefore.get(p.id), `${p.id} was not restarted`);
      }
    },
  );

  it('destroy leaves no file and no process on any host', STEP, async () => {
    const destroyed = await mup(['cluster', 'destroy', NAME, '--concurrency', CONCURRENCY, '--yes']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    await Promise.all(
      fleet.hosts.map(async (host) => {
        const files = await runOnHost(host, 'find /srv/mongodb -mindepth 1');
        assert.equal(files.stdout, '', `left on ${host.name}: ${files.stdout}`);
        const processes = await runOnHost(
          host,
          'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
        );
        assert.equal(processes.stdout, '', `running on ${host.name}: ${processes.stdout}`);
      }),
    );
  });
});
