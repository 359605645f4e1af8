// `mup cluster upgrade` of a sharded cluster (one config server, two one-member shards, one mongos) from 7.0
// to 8.0: every process ends on 8.0.4 in rolling order (config servers, shards, mongos), the balancer is held
// during the replacement and restored after, and the FCV is raised through mongos on the config servers and
// every shard.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Document } from 'mongodb';
import { makeFakeReleases } from '../../sim/src/releases.js';
import { type ReleaseServer, startReleaseServer } from '../binaries/helpers/release-server.js';
import { tempDir } from '../helpers/cli.js';
import { type DisplayJson, destroyCluster, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const NAME = 'upsharded';
const PORT_BASE = e2ePortBase();
let env: E2eEnv;
let server: ReleaseServer;

before(async () => {
  env = await e2eEnv('7.0.14');
  const mirrorRoot = await tempDir('mup-e2e-releases-');
  await makeFakeReleases({
    outDir: mirrorRoot,
    versions: [{ version: '8.0.4', targets: ['ubuntu2204', 'debian12', 'rhel80', 'rhel90'] }],
  });
  server = await startReleaseServer(mirrorRoot);
  const topology = join(env.home, 'sharded.yaml');
  await writeFile(
    topology,
    [
      'global:',
      '  deploy_dir: upsharded',
      'server_configs:',
      '  mongod:',
      '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
      '  mongos:',
      '    setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 500 }',
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
  await env.mupJson(env.deployArgs(NAME, topology, PORT_BASE), { timeoutMs: 180_000 });
});

after(async () => {
  await destroyCluster(env, NAME);
  await server?.close();
});

async function adminOn(port: number, command: Document): Promise<Document> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    return await client.db('admin').command(command);
  } finally {
    await client.close();
  }
}

test('7.0 → 8.0: config servers, shards, mongos; balancer held and restored; FCV through mongos', async () => {
  const result = await env.mupJson<{ plan: { phases: { name: string }[] }; version: string }>(
    ['cluster', 'upgrade', NAME, '8.0', '--mirror', server.url, '--yes'],
    { timeoutMs: 300_000 },
  );
  assert.deepEqual(
    result.plan.phases.map((p) => p.name),
    [
      '8.0:preflight',
      '8.0:binaries',
      '8.0:balancer-stop',
      '8.0:restart-cfg',
      '8.0:restart-shards',
      '8.0:restart-mongos',
      '8.0:record',
      '8.0:balancer-start',
      '8.0:fcv',
    ],
  );
  assert.equal(result.version, '8.0.4');
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
  for (const p of view.processes) {
    assert.equal(String((await adminOn(p.port, { buildInfo: 1 })).version), '8.0.4', p.id);
    if (p.role === 'mongos') continue;
    const reply = await adminOn(p.port, { getParameter: 1, featureCompatibilityVersion: 1 });
    assert.equal((reply.featureCompatibilityVersion as { version: string }).version, '8.0', p.id);
  }
  const router = view.processes.find((p) => p.role === 'mongos');
  assert.ok(router);
  assert.notEqual((await adminOn(router.port, { balancerStatus: 1 })).mode, 'off', 'the balancer is back on');
});
