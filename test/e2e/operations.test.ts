// Operations on a deployed replica set that the other files leave out: `cluster stop` while supervisord is
// dead (the orphaned mongods are stopped by pid), two real mup commands contending for the cluster lock, bad
// topology files refused by `cluster deploy` itself (not only `topology validate`), and a deploy that
// downloads its binaries from a release mirror over HTTP (no --binary-path).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { makeFakeReleases } from '../../sim/src/releases.js';
import { freePort } from '../../sim/test/helpers/ports.js';
import { type ReleaseServer, startReleaseServer } from '../binaries/helpers/release-server.js';
import { tempDir } from '../helpers/cli.js';
import {
  ALLOW_ROOT,
  type DisplayJson,
  destroyAllClusters,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
} from '../helpers/e2e.js';
import { runMupPausing } from '../helpers/interrupt.js';
import { listTree, supervisordPidsFor } from '../helpers/processes.js';

const PORT_BASE = e2ePortBase();
const NAME = 'ops';
let env: E2eEnv;
let server: ReleaseServer | undefined;

async function replicaSetTopology(file: string, deployDir: string): Promise<string> {
  const path = join(env.home, file);
  await writeFile(
    path,
    [
      'global:',
      `  deploy_dir: ${deployDir}`,
      'server_configs:',
      '  mongod:',
      '    setParameter: { shutdownTimeoutMillisForSignaledShutdown: 500 }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '  - { host: localhost, port: 0, replica_set: rs }',
      '',
    ].join('\n'),
  );
  return path;
}

before(async () => {
  env = await e2eEnv();
  const deploy = await env.mup(env.deployArgs(NAME, await replicaSetTopology('rs.yaml', 'ops'), PORT_BASE), {
    timeoutMs: 180_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
});

after(async () => {
  try {
    await destroyAllClusters(env);
  } finally {
    await server?.close();
  }
});

async function display(): Promise<DisplayJson> {
  return env.mupJson<DisplayJson>(['cluster', 'display', NAME]);
}

test('stop while supervisord is dead stops the orphaned mongods by pid; start brings the set back', async () => {
  const view = await display();
  const daemon = view.supervisors[0]?.pid;
  assert.ok(daemon);
  process.kill(daemon, 'SIGKILL');
  const orphans = simPidsMatching(join(env.userHome, 'ops'));
  assert.equal(orphans.length, 3, 'the mongods outlive their supervisord');

  const stop = await env.mup(['cluster', 'stop', NAME, '--yes'], { timeoutMs: 120_000 });
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(simPidsMatching(join(env.userHome, 'ops')), [], 'no mongod left');
  const stopped = await display();
  assert.deepEqual(
    stopped.processes.map((p) => p.status),
    ['Down', 'Down', 'Down'],
  );
  assert.equal(stopped.status, 'stopped');

  const start = await env.mup(['cluster', 'start', NAME], { timeoutMs: 180_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.deepEqual((await display()).processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
  assert.equal(supervisordPidsFor(join(env.userHome, 'ops')).length, 1);
});

test('two real mup commands: a stop while a restart holds the lock exits 3 naming it; the restart finishes', async () => {
  let contender: Awaited<ReturnType<E2eEnv['mup']>> | undefined;
  const restart = await runMupPausing(['cluster', 'restart', NAME, '--parallel', '--yes'], {
    home: env.home,
    env: { HOME: env.userHome },
    pauseAfter: (event) => event.state === 'running',
    whilePaused: async () => {
      contender = await env.mup(['cluster', 'stop', NAME, '--yes']);
    },
  });
  assert.equal(restart.code, 0, restart.stderr);
  assert.ok(contender);
  assert.equal(contender.code, 3, contender.stderr);
  assert.match(contender.stderr, new RegExp(`locked by 'mup cluster restart ${NAME}[^']*' \\(pid \\d+ on `));
  // The stop changed nothing: the restart's result stands.
  assert.deepEqual((await display()).processes.map((p) => p.status).sort(), ['Up|P', 'Up|S', 'Up|S']);
});

const badTopologies: { what: string; yaml: string; message: RegExp }[] = [
  {
    what: 'an unknown key',
    yaml: 'mongod_servers:\n  - { host: localhost, port: 0, colour: red }\n',
    message: /bad\.yaml:2:33 {2}mongod_servers\.0\.colour: unknown key/,
  },
  {
    what: 'a YAML syntax error',
    yaml: 'mongod_servers:\n  - { host: localhost, port: 0\n',
    message: /bad\.yaml:3:1 {2}Flow map in block collection/,
  },
  {
    what: 'two processes on one host:port',
    yaml: 'mongod_servers:\n  - { host: localhost, port: 29001, replica_set: rs }\n  - { host: localhost, port: 29001, replica_set: rs }\n',
    message: /localhost:29001/,
  },
  {
    what: 'mongos without config servers',
    yaml: 'mongod_servers:\n  - { host: localhost, port: 0, replica_set: s1 }\nmongos_servers:\n  - { host: localhost, port: 0 }\n',
    message: /config_servers/,
  },
];

for (const bad of badTopologies) {
  test(`cluster deploy refuses ${bad.what} (exit 2), creating nothing`, async () => {
    const dir = await tempDir('mup-e2e-bad-');
    const file = join(dir, 'bad.yaml');
    await writeFile(file, bad.yaml);
    const run = await env.mup(env.deployArgs('bad', file, PORT_BASE + 50));
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, bad.message);
    assert.equal(existsSync(join(env.home, 'storage', 'clusters', 'bad')), false, 'no cluster recorded');
    assert.deepEqual(await listTree(join(env.userHome, 'bad')), []);
  });
}

test('a deploy without --binary-path downloads from the mirror, caches, and runs those binaries', async () => {
  const mirrorRoot = await tempDir('mup-e2e-releases-');
  // Real vendor URLs in the lists: mup must rewrite them to the mirror (the network guard refuses the rest).
  await makeFakeReleases({
    outDir: mirrorRoot,
    versions: [{ version: '7.0.14', targets: ['ubuntu2204', 'debian12', 'rhel80', 'rhel90'] }],
  });
  server = await startReleaseServer(mirrorRoot);
  const topology = join(env.home, 'one.yaml');
  await writeFile(
    topology,
    'global:\n  deploy_dir: mirrored\nmongod_servers:\n  - { host: localhost, port: 0 }\n',
  );
  const port = await freePort();
  const run = await env.mup(
    [
      'cluster',
      'deploy',
      'mirrored',
      topology,
      '--version',
      '7.0.14',
      '--yes',
      '--port-base',
      String(port),
      '--mirror',
      server.url,
      ...ALLOW_ROOT,
    ],
    { timeoutMs: 180_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  const archives = [...server.requests.entries()].filter(([path]) => path.endsWith('.tgz'));
  assert.equal(archives.length, 1, `one archive fetched: ${[...server.requests.keys()].join(', ')}`);
  assert.equal(archives[0]?.[1], 1);
  const cached = await listTree(join(env.home, 'storage', 'packages'));
  assert.ok(
    cached.some((p) => p.endsWith('bin/mongod')),
    cached.join('\n'),
  );
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', 'mirrored']);
  assert.deepEqual(
    view.processes.map((p) => p.status),
    ['Up'],
  );
  const client = new MongoClient(view.uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    assert.equal(info.version, '7.0.14');
  } finally {
    await client.close();
  }
});
