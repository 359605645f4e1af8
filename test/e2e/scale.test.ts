// scale-out and scale-in through the built CLI, under real supervisord with the real driver: a member joins
// a three-member set under a continuous w:"majority" writer and ends SECONDARY with a vote, nothing lost;
// it leaves again; refusals change nothing; a kill in the middle of either is finished by `cluster resume`;
// a shard is added, holds data, and is drained away with every document still readable through mongos.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Document, MongoClient } from 'mongodb';
import { parse } from 'yaml';
import { tempDir } from '../helpers/cli.js';
import {
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  waitFor,
} from '../helpers/e2e.js';
import { runMupAndKill } from '../helpers/interrupt.js';
import { assertWriterAvailability, lostWrites, startWriter } from '../helpers/writer.js';

const PORT_BASE = e2ePortBase(2);
const RS = 'scalers';
const SH = 'scalesh';
let env: E2eEnv;
let dir: string;
let uri: string;

function metaPath(name: string): string {
  return join(env.home, 'storage', 'clusters', name, 'meta.yaml');
}

function journals(name: string): string[] {
  const ops = join(env.home, 'storage', 'clusters', name, 'ops');
  return existsSync(ops) ? readdirSync(ops).sort() : [];
}

async function writePart(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function display(name: string): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', name]);
}

async function rsConfig(): Promise<Document[]> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const reply = await client.db('admin').command({ replSetGetConfig: 1 });
    return (reply.config as Document).members as Document[];
  } finally {
    await client.close();
  }
}

/** Waits until display shows `count` members, one primary and the rest secondaries, all up. */
async function settled(name: string, count: number): Promise<DisplayJson> {
  return waitFor(
    `${count} members up with one primary`,
    async () => {
      const view = await display(name);
      const statuses = view.processes.map((p) => p.status).sort();
      const wanted = ['Up|P', ...Array.from({ length: count - 1 }, () => 'Up|S')];
      return statuses.join() === wanted.join() ? view : undefined;
    },
    60_000,
  );
}

/** What a refused command must leave untouched: meta, journals, pids. */
async function snapshot(name: string): Promise<string> {
  const view = await display(name);
  return JSON.stringify({
    meta: readFileSync(metaPath(name), 'utf8'),
    journals: journals(name),
    pids: view.processes.map((p) => `${p.id}=${p.pid}`),
  });
}

const PART_MEMBER = ['mongod_servers:', '  - host: localhost', '    port: 0', '    replica_set: rs'];

before(async () => {
  env = await e2eEnv();
  dir = await tempDir('mup-e2e-scale-');
  const topology = await writePart('rs.yaml', [
    'global:',
    '  deploy_dir: scale-rs',
    'server_configs:',
    '  mongod:',
    '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
    'mongod_servers:',
    '  - { host: localhost, port: 0, replica_set: rs }',
    '  - { host: localhost, port: 0, replica_set: rs }',
    '  - { host: localhost, port: 0, replica_set: rs }',
  ]);
  const deployed = await env.mupJson<{ uri: string }>(env.deployArgs(RS, topology, PORT_BASE), {
    timeoutMs: 180_000,
  });
  uri = deployed.uri;
});

after(async () => {
  if (env) await destroyAllClusters(env);
});

let added: string | undefined;

test('scale-out of one member under a majority writer: it syncs, gets its vote, nothing is lost', async () => {
  const part = await writePart('one.yaml', PART_MEMBER);
  const before = await display(RS);
  const writer = await startWriter(uri);
  let report: Awaited<ReturnType<typeof writer.stop>>;
  try {
    await writer.waitForWrites(50);
    const run = await env.mup(['cluster', 'scale-out', RS, part, '--yes', '--port-base', String(PORT_BASE)], {
      timeoutMs: 300_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /4 voting members: an even number/, 'the even-voters warning');
    await writer.waitForWrites(writer.acknowledgedCount() + 50);
  } finally {
    report = await writer.stop();
  }
  assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
  assert.deepEqual(await lostWrites(uri, report), []);
  const view = await settled(RS, 4);
  const fresh = view.processes.filter((p) => !before.processes.some((b) => b.id === p.id));
  assert.equal(fresh.length, 1);
  added = fresh[0]?.id;
  assert.equal(fresh[0]?.status, 'Up|S');
  for (const p of before.processes)
    assert.equal(view.processes.find((v) => v.id === p.id)?.pid, p.pid, `${p.id} was not restarted`);
  const member = (await rsConfig()).find((m) => m.host === added);
  assert.ok(member, `${added} is in the replica-set config`);
  assert.equal(member.votes, 1);
  assert.equal(member.priority, 1);
  const meta = parse(readFileSync(metaPath(RS), 'utf8')) as {
    spec: { mongod_servers: { port: number }[] };
    topology: { replicaSets: { members: string[] }[] };
  };
  assert.equal(meta.spec.mongod_servers.length, 4);
  assert.notEqual(meta.spec.mongod_servers[3]?.port, 0, 'the allocated port is pinned in the spec');
  assert.ok(meta.topology.replicaSets[0]?.members.includes(added as string));
});

test('refusals change nothing: losing the majority, an unknown -N, a bad part with positions, > 7 voters', async () => {
  const ids = (await display(RS)).processes.map((p) => p.id);
  const before = await snapshot(RS);
  const majority = await env.mup(['cluster', 'scale-in', RS, '-N', ids.slice(0, 2).join(','), '--yes']);
  assert.equal(majority.code, 2, majority.stderr);
  assert.match(majority.stderr, /would lose the majority of its voting members \(2 of 4 leave\)/);
  const unknown = await env.mup(['cluster', 'scale-in', RS, '-N', 'localhost:1', '--yes']);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /no process 'localhost:1'/);
  const [host, port] = (ids[0] as string).split(':');
  const bad = await writePart('bad.yaml', [
    'mongod_servers:',
    `  - host: ${host}`,
    `    port: ${port}`,
    '    replica_set: rs',
    'server_configs:',
    '  mongod: {}',
  ]);
  const badRun = await env.mup(['cluster', 'scale-out', RS, bad, '--yes']);
  assert.equal(badRun.code, 2, badRun.stderr);
  assert.match(
    badRun.stderr,
    /bad\.yaml:3:11 +mongod_servers\.0\.port: .* is already used by mongod_servers\.0/,
  );
  assert.match(badRun.stderr, /bad\.yaml:5:1 +server_configs: server_configs belongs to the whole cluster/);
  const schema = await writePart('schema.yaml', [...PART_MEMBER, '    votes: 2']);
  const schemaRun = await env.mup(['cluster', 'scale-out', RS, schema, '--yes']);
  assert.equal(schemaRun.code, 2, schemaRun.stderr);
  assert.match(schemaRun.stderr, /schema\.yaml:5:12 +mongod_servers\.0\.votes: must be 0 or 1/);
  const many = await writePart('many.yaml', [
    'mongod_servers:',
    ...Array.from({ length: 4 }, () => '  - { host: localhost, port: 0, replica_set: rs }'),
  ]);
  const tooMany = await env.mup([
    'cluster',
    'scale-out',
    RS,
    many,
    '--yes',
    '--port-base',
    String(PORT_BASE),
  ]);
  assert.equal(tooMany.code, 2, tooMany.stderr);
  assert.match(tooMany.stderr, /many\.yaml:5:\d+ +mongod_servers\.3: replica set "rs" has 8 voting members/);
  const missing = await env.mup(['cluster', 'scale-in', 'nosuch', '-N', 'localhost:1', '--yes']);
  assert.equal(missing.code, 2, missing.stderr);
  assert.equal(await snapshot(RS), before);
});

test('scale-in of the added member: it leaves the set, its program and files go, meta forgets it', async () => {
  assert.ok(added, 'the scale-out test added a member');
  const before = await display(RS);
  const gone = before.processes.find((p) => p.id === added);
  assert.ok(gone?.dataDir);
  const writer = await startWriter(uri);
  let report: Awaited<ReturnType<typeof writer.stop>>;
  try {
    await writer.waitForWrites(50);
    const run = await env.mup(['cluster', 'scale-in', RS, '-N', added as string, '--yes'], {
      timeoutMs: 180_000,
    });
    assert.equal(run.code, 0, run.stderr);
    await writer.waitForWrites(writer.acknowledgedCount() + 50);
  } finally {
    report = await writer.stop();
  }
  assertWriterAvailability(report, Math.max(0, report.primaries.length - 1));
  assert.deepEqual(await lostWrites(uri, report), []);
  const view = await settled(RS, 3);
  assert.ok(!view.processes.some((p) => p.id === added));
  assert.ok(!(await rsConfig()).some((m) => m.host === added), 'out of the replica-set config');
  assert.equal(existsSync(gone.dataDir), false, 'its data dir is removed');
  const ini = readFileSync(join(env.userHome, 'scale-rs', 'supervisor', 'supervisor.ini'), 'utf8');
  assert.ok(!ini.includes(gone.program), 'its program left supervisor.ini');
  assert.ok(!readFileSync(metaPath(RS), 'utf8').includes(added as string), 'meta forgot it');
});

async function killedAt(args: string[], failpoint: string): Promise<void> {
  const run = await runMupAndKill(args, {
    home: env.home,
    env: { HOME: env.userHome, MUP_FAILPOINT: failpoint },
    killAfter: () => false,
  });
  assert.equal(run.signal, 'SIGKILL', `mup ${args.join(' ')} was not killed at ${failpoint}\n${run.stderr}`);
}

async function resume(name: string): Promise<void> {
  const run = await env.mup(['cluster', 'resume', name], { timeoutMs: 300_000 });
  assert.equal(run.code, 0, run.stderr);
}

test('scale-out killed after the member was added, and again after it was recorded: resume finishes each', async () => {
  const part = await writePart('again.yaml', PART_MEMBER);
  const args = ['cluster', 'scale-out', RS, part, '--yes', '--port-base', String(PORT_BASE)];
  await killedAt(args, 'add-member:*:after-run');
  const atKill = await rsConfig();
  assert.equal(atKill.length, 4, 'the member was in the config at the kill');
  const joined = atKill.at(-1) as Document;
  assert.equal(joined.votes, 0, 'without a vote until it has synced');
  await resume(RS);
  await settled(RS, 4);
  const promoted = (await rsConfig()).find((m) => m.host === joined.host);
  assert.equal(promoted?.votes, 1);

  // Out again, killed once its meta entry is gone (the plan is rebuilt from the journaled selection).
  await killedAt(['cluster', 'scale-in', RS, '-N', String(joined.host), '--yes'], 'forget:*:after-run');
  assert.ok(!readFileSync(metaPath(RS), 'utf8').includes(String(joined.host)));
  await resume(RS);
  await settled(RS, 3);
  assert.ok(!(await rsConfig()).some((m) => m.host === joined.host));

  // In again, killed after meta recorded it but before the journal did.
  await killedAt(args, 'record:*:after-run');
  await resume(RS);
  const view = await settled(RS, 4);
  assert.equal(view.processes.length, 4);
  assert.equal((await rsConfig()).filter((m) => m.votes === 1).length, 4);
});

test('sharded: a shard added by scale-out takes data, and scale-in drains it away; every document stays readable', async () => {
  const topology = await writePart('sh.yaml', [
    'global:',
    '  deploy_dir: scale-sh',
    'config_servers:',
    '  - { host: localhost, port: 0, replica_set: cfg }',
    'mongod_servers:',
    '  - { host: localhost, port: 0, replica_set: sh1 }',
    'mongos_servers:',
    '  - { host: localhost, port: 0 }',
  ]);
  const deployed = await env.mupJson<{ uri: string }>(env.deployArgs(SH, topology, PORT_BASE + 100), {
    timeoutMs: 240_000,
  });
  const part = await writePart('shard.yaml', [
    'mongod_servers:',
    '  - { host: localhost, port: 0, replica_set: sh2 }',
    'mongos_servers:',
    '  - { host: localhost, port: 0 }',
  ]);
  const out = await env.mupJson<{ added: { id: string; replicaSet?: string }[] }>(
    ['cluster', 'scale-out', SH, part, '--yes', '--port-base', String(PORT_BASE + 100)],
    { timeoutMs: 300_000 },
  );
  assert.deepEqual(
    out.added.map((a) => a.replicaSet ?? 'mongos'),
    ['sh2', 'mongos'],
  );
  const client = new MongoClient(deployed.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    const admin = client.db('admin');
    assert.deepEqual(
      ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => s._id).sort(),
      ['sh1', 'sh2'],
    );
    await admin.command({ enableSharding: 'app' });
    await admin.command({ shardCollection: 'app.items', key: { _id: 1 } });
    await client
      .db('app')
      .collection<{ _id: number; v: number }>('items')
      .insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i, v: i })));
    await client
      .db('other')
      .collection<{ _id: number }>('plain')
      .insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i })));
    await admin.command({ split: 'app.items', middle: { _id: 250 } });
    await admin.command({ split: 'app.items', middle: { _id: 375 } });
    await admin.command({ moveChunk: 'app.items', find: { _id: 300 }, to: 'sh2' });
    await admin.command({ moveChunk: 'app.items', find: { _id: 400 }, to: 'sh2' });
    await admin.command({ movePrimary: 'other', to: 'sh2' });
    const onSh2 = await client.db('config').collection('chunks').countDocuments({ shard: 'sh2' });
    assert.equal(onSh2, 2, 'two chunks live on the new shard');

    // Killed while draining, at the live progress line of the removeShard that started it (mup waits 1 s before
    // asking again, and moves the databases only once no chunk is left); resume finishes the drain.
    const sh2 = out.added.filter((a) => a.replicaSet === 'sh2').map((a) => a.id);
    const killed = await runMupAndKill(['cluster', 'scale-in', SH, '-N', sh2.join(','), '--yes'], {
      home: env.home,
      env: { HOME: env.userHome },
      killAfter: (e) =>
        e.step === 'remove-shard:sh2' &&
        e.state === 'progress' &&
        /^started: counting chunks left, databases to move: other$/.test(e.progress ?? ''),
      timeoutMs: 300_000,
    });
    assert.ok(killed.killed, `scale-in was killed while draining\n${killed.stderr}`);
    const draining = ((await admin.command({ listShards: 1 })).shards as Document[]).find(
      (s) => s._id === 'sh2',
    );
    assert.equal(draining?.draining, true, 'the shard is left draining');
    const run = await env.mup(['cluster', 'resume', SH], { timeoutMs: 300_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /… removeShard sh2 .*: ongoing: \d+ chunks left, databases to move: other/);
    assert.match(run.stderr, /movePrimary other → sh1/);
    assert.deepEqual(
      ((await admin.command({ listShards: 1 })).shards as Document[]).map((s) => s._id),
      ['sh1'],
    );
    assert.equal(await client.db('app').collection('items').countDocuments(), 500);
    assert.equal(await client.db('other').collection('plain').countDocuments(), 50);
  } finally {
    await client.close();
  }
  const view = await display(SH);
  assert.ok(!view.processes.some((p) => p.replicaSet === 'sh2'));
  const routers = view.processes.filter((p) => p.role === 'mongos');
  assert.equal(routers.length, 2, 'the added mongos stays');
  const lastMongos = await env.mup([
    'cluster',
    'scale-in',
    SH,
    '-N',
    routers.map((r) => r.id).join(','),
    '--yes',
  ]);
  assert.equal(lastMongos.code, 2, lastMongos.stderr);
  assert.match(lastMongos.stderr, /would remove every mongos/);
});
