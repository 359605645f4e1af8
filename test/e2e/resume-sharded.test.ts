// Killing mup in the middle of a sharded deploy (between the config servers and the shards, and between two
// addShard calls) and running `mup cluster resume` ends in a healthy sharded cluster with both shards.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { tempDir } from '../helpers/cli.js';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
} from '../helpers/e2e.js';
import { runMupAndKill, type StepEvent } from '../helpers/interrupt.js';
import { listTree, supervisordPidsFor } from '../helpers/processes.js';

const PORT_BASE = e2ePortBase();
const deployed: { env: E2eEnv; name: string }[] = [];
let topology: string;

before(async () => {
  // One member per replica set keeps this quick; the plan has every sharded phase all the same.
  topology = join(await tempDir('mup-e2e-topologies-'), 'sharded.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: mongodb',
      'config_servers:',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard2 }',
      'mongos_servers:',
      '  - { host: localhost, port: 0 }',
      '',
    ].join('\n'),
  );
});

after(async () => {
  for (const { env, name } of deployed) {
    await destroyCluster(env, name, 180_000);
  }
});

const killPoints: { name: string; what: string; at: (e: StepEvent) => boolean }[] = [
  {
    name: 'sharded-config',
    what: 'the config server replica set is healthy',
    at: (e) => e.state === 'done' && e.step === 'healthy:cfg',
  },
  {
    name: 'sharded-add-shard',
    what: 'the first addShard',
    at: (e) => e.state === 'done' && e.step.startsWith('add-shard:'),
  },
];

for (const point of killPoints) {
  test(`SIGKILL of mup after ${point.what}, then resume: a healthy sharded cluster`, async () => {
    const env = await e2eEnv();
    deployed.push({ env, name: point.name });
    const run = await runMupAndKill(env.deployArgs(point.name, topology, PORT_BASE), {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: point.at,
      timeoutMs: 300_000,
    });
    assert.ok(run.killed, `mup finished (exit ${run.code}) before the kill point\n${run.stderr}`);

    const resume = await env.mup(['cluster', 'resume', point.name], { timeoutMs: 300_000 });
    assert.equal(resume.code, 0, resume.stderr);

    const view = await env.mupJson<DisplayJson>(['cluster', 'display', point.name]);
    assert.equal(view.kind, 'sharded');
    assert.equal(view.status, 'running');
    assert.deepEqual(view.processes.map((p) => `${p.role} ${p.replicaSet ?? '-'} ${p.status}`).sort(), [
      'config cfg Up|P',
      'mongod shard1 Up|P',
      'mongod shard2 Up|P',
      'mongos - Up',
    ]);
    const sims = simPidsMatching(`${env.userHome}/mongodb/`).sort();
    assert.deepEqual(sims, view.processes.map((p) => p.pid ?? -1).sort(), 'one process per instance');
    assert.equal(supervisordPidsFor(`${env.userHome}/mongodb/supervisor/supervisor.ini`).length, 1);

    const client = new MongoClient(view.uri, { serverSelectionTimeoutMS: 20_000 });
    try {
      const shards = await client.db('admin').command({ listShards: 1 });
      assert.deepEqual((shards.shards as { _id: string }[]).map((s) => s._id).sort(), ['shard1', 'shard2']);
      const write = await client
        .db('app')
        .collection('c')
        .insertOne({ through: 'mongos' }, { writeConcern: { w: 'majority' } });
      assert.ok(write.acknowledged);
      assert.ok(await client.db('app').collection('c').findOne({ through: 'mongos' }));
    } finally {
      await client.close();
    }

    const audit = await env.mupJson<{ operations: { operation: string; status: string }[] }>([
      'cluster',
      'audit',
      point.name,
    ]);
    assert.deepEqual(
      audit.operations.map((o) => `${o.operation} ${o.status}`),
      ['deploy succeeded'],
    );

    const destroy = await env.mup(['cluster', 'destroy', point.name, '--yes'], { timeoutMs: 180_000 });
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual(simPidsMatching(`${env.userHome}/mongodb/`), []);
    assert.deepEqual(await listTree(env.userHome), []);
  });
}
