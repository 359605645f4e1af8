// The standalone example topology, deployed unchanged: its directories are absolute system paths
// (/opt/mongodb, /data/mongodb, /var/log/mongodb, /etc/mongodb), so destroy must take them all away again.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import {
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
  topologyPath,
  waitFor,
} from '../helpers/e2e.js';
import { listTree, supervisordPidsFor } from '../helpers/processes.js';
import { lockSystemDirs } from '../helpers/system-dirs.js';

const NAME = 'standalone-e2e';
const PORT_BASE = e2ePortBase();
/** The global dirs the example names: created by the deploy, gone after destroy. */
const TOPOLOGY_DIRS = ['/opt/mongodb', '/data/mongodb', '/var/log/mongodb', '/etc/mongodb'];
const SUPERVISOR_INI = '/opt/mongodb/supervisor/supervisor.ini';

let env: E2eEnv;
let uri: string;
let port: number;
/** `/data` is not named by the topology (only /data/mongodb is); the deploy creates it when missing. */
let dataRootExisted: boolean;

let releaseSystemDirs: (() => Promise<void>) | undefined;

before(async () => {
  // The sharded example uses the same system dirs: one such test at a time.
  releaseSystemDirs = await lockSystemDirs();
  // Never touch files this test did not create (a test not taking the lock may still be finishing).
  for (const dir of TOPOLOGY_DIRS)
    await waitFor(
      `${dir} to be absent before the test`,
      async () => (existsSync(dir) ? undefined : true),
      600_000,
    );
  dataRootExisted = existsSync('/data');
  env = await e2eEnv();
});

after(async () => {
  try {
    if (env) await destroyCluster(env, NAME, 120_000);
  } finally {
    if (env && !dataRootExisted) await rmdir('/data').catch(() => undefined);
    await releaseSystemDirs?.();
  }
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

test('the standalone example deploys unchanged into its absolute dirs and prints only the URI', async () => {
  const run = await env.mup(env.deployArgs(NAME, topologyPath('standalone'), PORT_BASE), {
    timeoutMs: 180_000,
  });
  assert.equal(run.code, 0, run.stderr);
  const match = /^mongodb:\/\/localhost:(\d+)\/\n$/.exec(run.stdout);
  assert.ok(match?.[1], `stdout is the URI alone: ${JSON.stringify(run.stdout)}`);
  uri = run.stdout.trim();
  port = Number(match[1]);
  assert.ok(port >= PORT_BASE && port < PORT_BASE + 100, `allocated port ${port}`);
  assert.match(
    run.stderr,
    new RegExp(`Cluster ${NAME} \\(standalone, MongoDB ${env.version}\\) is running\\.`),
  );

  const program = `mongod-${port}`;
  const conf = await readFile(`/etc/mongodb/${program}/mongod.conf`, 'utf8');
  assert.match(conf, new RegExp(`dbPath: /data/mongodb/${program}`));
  assert.match(conf, new RegExp(`path: /var/log/mongodb/${program}/mongod.log`));
  assert.match(conf, new RegExp(`port: ${port}`));
  assert.doesNotMatch(conf, /replSetName|replication:/, 'a standalone has no replica set');
  assert.ok(existsSync(`/var/log/mongodb/${program}/mongod.log`));
  assert.ok(existsSync(`/opt/mongodb/${program}/bin/mongod`));
  assert.match(await readFile(SUPERVISOR_INI, 'utf8'), new RegExp(`\\[program:${program}\\]`));
});

test('display shows the standalone Up, run by its supervisord', async () => {
  const view = await display();
  assert.equal(view.kind, 'standalone');
  assert.equal(view.status, 'running');
  assert.equal(view.uri, uri);
  assert.equal(view.processes.length, 1);
  const [row] = view.processes;
  assert.ok(row);
  assert.equal(row.status, 'Up');
  assert.equal(row.role, 'mongod');
  assert.equal(row.replicaSet, undefined);
  assert.equal(row.port, port);
  assert.equal(row.dataDir, `/data/mongodb/mongod-${port}`);
  assert.deepEqual(simPidsMatching(`/etc/mongodb/mongod-${port}/`), [row.pid]);
  const daemons = supervisordPidsFor(SUPERVISOR_INI);
  assert.equal(daemons.length, 1);
  assert.equal(view.supervisors[0]?.state, 'running');
  assert.equal(view.supervisors[0]?.pid, daemons[0]);
});

test('the driver inserts and reads back through the printed URI; a restart keeps the data', async () => {
  const write = async () => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
    try {
      const result = await client
        .db('app')
        .collection('things')
        .insertOne({ name: 'standalone', n: 1 }, { writeConcern: { w: 'majority' } });
      assert.ok(result.acknowledged);
    } finally {
      await client.close();
    }
  };
  const read = async () => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 20_000 });
    try {
      return await client.db('app').collection('things').find({ name: 'standalone' }).toArray();
    } finally {
      await client.close();
    }
  };
  await write();
  assert.deepEqual(
    (await read()).map((d) => d.n),
    [1],
  );
  const before = (await display()).processes[0]?.pid;
  const restart = await env.mup(['cluster', 'restart', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(restart.code, 0, restart.stderr);
  const after = await display();
  assert.equal(after.processes[0]?.status, 'Up');
  assert.notEqual(after.processes[0]?.pid, before, 'a new process');
  assert.deepEqual(
    (await read()).map((d) => d.n),
    [1],
  );
});

test('destroy leaves none of its files and no process', async () => {
  const destroy = await env.mup(['cluster', 'destroy', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.deepEqual(simPidsMatching(`/etc/mongodb/mongod-${port}/`), []);
  assert.deepEqual(supervisordPidsFor(SUPERVISOR_INI), []);
  for (const dir of TOPOLOGY_DIRS) {
    assert.deepEqual(await listTree(dir), [], `nothing left under ${dir}`);
    assert.equal(existsSync(dir), false, `${dir} is removed`);
  }
  assert.equal(existsSync(`${env.home}/storage/clusters/${NAME}`), false);
  const list = await env.mupJson<{ clusters: unknown[] }>(['cluster', 'list']);
  assert.deepEqual(list.clusters, []);
});
