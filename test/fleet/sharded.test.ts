// A sharded cluster spread over four fleet hosts, deployed and operated over SSH through the built CLI: a
// config server replica set, two shards of three members and two mongos, no host holding a whole set. One
// deployed cluster serves the whole file: display (every process up in its role), a rolling restart under a
// majority writer through the mongos to sharded collections on both shards (nothing lost, no write failed),
// stop and start (the data still there), destroy leaving nothing on any host.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  describeFailures,
  lostWrites,
  readIds,
  startWriter,
  uniqueCollection,
  type WriterReport,
  type WriterTarget,
} from '../helpers/writer.js';
import { type Control, prepareControl, settledDisplay } from './control.js';
import { createFleet, destroyFleet, type Fleet, type FleetHost, fleetSupported, runOnHost } from './fleet.js';

const supported = fleetSupported();
const VERSION = '7.0.14';
const NAME = 'fleet-sh';
const DIR = `/srv/mongodb/${NAME}`;
const STEP = { timeout: 600_000 };

/** Which host (index into the fleet) runs what: each set on three hosts, a mongos on hosts 1 and 4. */
const LAYOUT = [
  { section: 'config_servers', set: 'cfg', port: 27019, hosts: [0, 1, 2] },
  { section: 'mongod_servers', set: 'shard1', port: 27018, hosts: [0, 1, 3] },
  { section: 'mongod_servers', set: 'shard2', port: 27020, hosts: [1, 2, 3] },
  { section: 'mongos_servers', set: undefined, port: 27017, hosts: [0, 3] },
] as const;

function topology(hosts: readonly FleetHost[]): string {
  const lines = [
    'global:',
    '  user: deploy',
    `  deploy_dir: ${DIR}`,
    // A rolling restart keeps each server's quiesce period (15 s by default from 5.0): 1 s keeps the file short.
    'server_configs:',
    '  mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 1000 } }',
    '  mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 1000 } }',
  ];
  for (const section of ['config_servers', 'mongod_servers', 'mongos_servers'] as const) {
    lines.push(`${section}:`);
    for (const entry of LAYOUT.filter((e) => e.section === section))
      for (const index of entry.hosts)
        lines.push(
          `  - host: ${hosts[index]?.address}`,
          `    port: ${entry.port}`,
          ...(entry.set === undefined ? [] : [`    replica_set: ${entry.set}`]),
        );
  }
  return `${lines.join('\n')}\n`;
}

describe('a sharded cluster over SSH on four hosts', {
  skip: supported.ok ? false : supported.reason,
}, () => {
  let fleet: Fleet;
  let control: Control;
  let uri: string;
  let targets: WriterTarget[];
  let written: WriterReport | undefined;

  before(async () => {
    fleet = await createFleet({ hosts: 4, namePrefix: 'sh' });
    control = await prepareControl(fleet, VERSION);
    const file = join(control.home, 'sharded.yaml');
    await writeFile(file, topology(fleet.hosts));
    const deployed = await control.mup(
      ['cluster', 'deploy', NAME, file, '--version', VERSION, '--binary-path', control.binDir, '--yes'],
      { timeoutMs: 540_000 },
    );
    assert.equal(deployed.code, 0, deployed.stderr);
    const credentials = await control.mup(['cluster', 'credentials', NAME, '--uri']);
    assert.equal(credentials.code, 0, credentials.stderr);
    uri = credentials.stdout.trim();
  }, STEP);

  after(async () => {
    try {
      if (control !== undefined) {
        const gone = await control.mup(['cluster', 'destroy', NAME, '--yes']);
        if (gone.code !== 0 && !/not found|no cluster/i.test(gone.stderr)) console.error(gone.stderr);
      }
    } finally {
      if (fleet !== undefined) await destroyFleet(fleet);
    }
  }, STEP);

  it('display: every process up in its role on its host, one supervisord per host', STEP, async () => {
    const view = await settledDisplay(control, NAME, 3);
    assert.equal(view.kind, 'sharded');
    assert.equal(view.status, 'running', JSON.stringify(view.processes));
    const expected = LAYOUT.flatMap((entry) =>
      entry.hosts.map((index) => [
        `${fleet.hosts[index]?.address}:${entry.port}`,
        entry.section === 'config_servers'
          ? 'config'
          : entry.section === 'mongos_servers'
            ? 'mongos'
            : 'mongod',
        entry.set ?? '-',
      ]),
    );
    assert.deepEqual(view.processes.map((p) => [p.id, p.role, p.replicaSet ?? '-']).sort(), expected.sort());
    for (const set of ['cfg', 'shard1', 'shard2']) {
      const statuses = view.processes.filter((p) => p.replicaSet === set).map((p) => p.status);
      assert.deepEqual(statuses.sort(), ['Up|P', 'Up|S', 'Up|S'], `${set}: ${statuses.join(', ')}`);
    }
    assert.deepEqual(
      view.processes.filter((p) => p.role === 'mongos').map((p) => p.status),
      ['Up', 'Up'],
    );
    assert.deepEqual(
      view.supervisors.map((s) => [s.host, s.state]),
      fleet.hosts.map((h) => [h.address, 'running']),
    );
    for (const host of fleet.hosts) {
      const daemons = await runOnHost(host, 'pgrep -c -x supervisord');
      assert.equal(daemons.stdout.trim(), '1', host.name);
    }
    // The mongos see both shards.
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
    try {
      const shards = (await client.db('admin').command({ listShards: 1 })).shards as { _id: string }[];
      assert.deepEqual(shards.map((s) => s._id).sort(), ['shard1', 'shard2']);
    } finally {
      await client.close();
    }
  });

  it(
    'a rolling restart under a majority writer through mongos to sharded collections on both shards loses nothing and fails no write',
    STEP,
    async (t) => {
      targets = await shardedOnBothShards(uri);
      const before = await control.display(NAME);
      const writer = await startWriter(uri, { targets, maxDurationMs: 540_000 });
      let report: WriterReport;
      try {
        await writer.waitForWrites(20, 60_000);
        const restarted = await control.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 540_000 });
        assert.equal(restarted.code, 0, restarted.stderr);
        await writer.waitForWrites(writer.acknowledgedCount() + 20, 60_000);
      } finally {
        report = await writer.stop();
      }
      t.diagnostic(
        `writer: ${report.acknowledged.length} acknowledged, longest stall ${report.longestStallMs} ms, failures: ${describeFailures(report)}`,
      );
      assert.deepEqual(await lostWrites(uri, report), []);
      // Retryable writes through mongos: a primary stepping down or a mongos restarting surfaces nothing.
      assert.equal(report.failures, 0, describeFailures(report));
      for (const i of [0, 1])
        assert.ok(
          report.acknowledged.some((id) => id % 2 === i),
          `the collection on shard ${i + 1} was written`,
        );
      const after = await settledDisplay(control, NAME, 3);
      // Every process was restarted: a new pid each.
      for (const p of after.processes) {
        const old = before.processes.find((q) => q.id === p.id);
        assert.ok(p.status.startsWith('Up'), JSON.stringify(p));
        assert.notEqual(p.pid, old?.pid, `${p.id} was restarted`);
      }
      written = report;
    },
  );

  it(
    'stop brings every process and supervisord down; start brings them back with the data',
    STEP,
    async () => {
      const stopped = await control.mup(['cluster', 'stop', NAME, '--yes'], { timeoutMs: 300_000 });
      assert.equal(stopped.code, 0, stopped.stderr);
      const down = await control.display(NAME);
      assert.equal(down.status, 'stopped', JSON.stringify(down.processes));
      assert.ok(
        down.processes.every((p) => !p.status.startsWith('Up')),
        JSON.stringify(down.processes),
      );
      // Nothing of the cluster runs on any host, its supervisord included.
      for (const host of fleet.hosts) {
        const processes = await runOnHost(
          host,
          'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
        );
        assert.equal(processes.stdout, '', `running on ${host.name}: ${processes.stdout}`);
      }
      const started = await control.mup(['cluster', 'start', NAME, '--yes'], { timeoutMs: 300_000 });
      assert.equal(started.code, 0, started.stderr);
      const up = await settledDisplay(control, NAME, 3);
      assert.equal(up.status, 'running', JSON.stringify(up.processes));
      if (written !== undefined) {
        const ids = new Set<number>();
        for (const target of targets)
          for (const id of await readIds(uri, target.db, target.collection)) ids.add(id);
        assert.deepEqual(
          written.acknowledged.filter((id) => !ids.has(id)),
          [],
        );
      }
    },
  );

  it('destroy leaves no file and no process on any host', STEP, async () => {
    const destroyed = await control.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 300_000 });
    assert.equal(destroyed.code, 0, destroyed.stderr);
    for (const host of fleet.hosts) {
      const files = await runOnHost(host, 'find /srv/mongodb -mindepth 1');
      assert.equal(files.stdout, '', `left on ${host.name}: ${files.stdout}`);
      const processes = await runOnHost(
        host,
        'ps -e -o comm= | grep -v -x -e sshd -e ps -e sh -e grep || true',
      );
      assert.equal(processes.stdout, '', `running on ${host.name}: ${processes.stdout}`);
    }
  });
});

/**
 * Two sharded collections, each in a database of its own whose primary shard differs: each collection's one
 * chunk lives on its database's primary shard, so alternate writes reach both shards.
 */
async function shardedOnBothShards(uri: string): Promise<WriterTarget[]> {
  const targets = [
    { db: 'fleet_a', collection: uniqueCollection() },
    { db: 'fleet_b', collection: uniqueCollection() },
  ];
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const admin = client.db('admin');
    for (const t of targets) await admin.command({ enableSharding: t.db });
    const primaryOf = async (db: string) =>
      (
        await client
          .db('config')
          .collection<{ _id: string; primary: string }>('databases')
          .findOne({ _id: db })
      )?.primary;
    const a = await primaryOf('fleet_a');
    const b = await primaryOf('fleet_b');
    if (a === b) await admin.command({ movePrimary: 'fleet_b', to: a === 'shard1' ? 'shard2' : 'shard1' });
    assert.deepEqual(
      [await primaryOf('fleet_a'), await primaryOf('fleet_b')].sort(),
      ['shard1', 'shard2'],
      'the two databases live on different shards',
    );
    // A new sharded collection's one chunk is on its database's primary shard.
    for (const t of targets)
      await admin.command({ shardCollection: `${t.db}.${t.collection}`, key: { _id: 1 } });
  } finally {
    await client.close();
  }
  return targets;
}
