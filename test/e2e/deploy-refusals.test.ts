// Bad input to `mup cluster deploy` is refused before anything starts: each refusal has its message and exit
// code, and leaves nothing behind (no cluster in the store, no deploy dir, no processes, no cache entry).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { makeFakeReleases } from '../../sim/src/releases.js';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import {
  ALLOW_ROOT,
  type DisplayJson,
  destroyCluster,
  type E2eEnv,
  e2eEnv,
  e2ePortBase,
  simPidsMatching,
} from '../helpers/e2e.js';
import { listTree, supervisordPidsFor } from '../helpers/processes.js';
import { simBinaryDir } from '../helpers/sim.js';

/** Two blocks: allocations from PORT_BASE + 100 stay clear of the fixed ports below it. */
const PORT_BASE = e2ePortBase(2);
/** The standalone cluster every refusal must leave alone, and its allocated port. */
const FIRST = 'first';
let firstPort: number;
/** `port: 0` entries of the refused topologies are allocated from here (the plan needs a port). */
const ALLOCATE_FROM = String(PORT_BASE + 100);

let env: E2eEnv;
let topologies: string;

/** A one-mongod topology in its own deploy dir under the test HOME. */
async function standaloneTopology(file: string, deployDir: string, port: number): Promise<string> {
  const path = join(topologies, file);
  await writeFile(
    path,
    [
      'global:',
      `  deploy_dir: ${deployDir}`,
      'mongod_servers:',
      '  - host: localhost',
      `    port: ${port}`,
      '',
    ].join('\n'),
  );
  return path;
}

function deploy(name: string, topology: string, extra: string[] = []): Promise<MupRun> {
  return env.mup([
    'cluster',
    'deploy',
    name,
    topology,
    '--version',
    env.version,
    '--binary-path',
    env.binDir,
    '--yes',
    ...ALLOW_ROOT,
    ...(extra.includes('--port-base') ? [] : ['--port-base', ALLOCATE_FROM]),
    // Its clients write unauthenticated (auth has its own tests).
    '--no-auth',
    ...extra,
  ]);
}

/** Nothing of cluster `name` (deployed under `deployDir`) exists: store, files, processes. */
async function assertNothingLeft(name: string | undefined, deployDir: string): Promise<void> {
  if (name !== undefined)
    assert.equal(
      existsSync(join(env.home, 'storage', 'clusters', name)),
      false,
      'no cluster dir in the store',
    );
  const root = join(env.userHome, deployDir);
  assert.deepEqual(await listTree(root), [], `nothing under ${root}`);
  assert.equal(existsSync(root), false, `${root} was not created`);
  assert.deepEqual(simPidsMatching(`${root}/`), [], 'no mongod started');
  assert.deepEqual(supervisordPidsFor(`${root}/supervisor/supervisor.ini`), [], 'no supervisord started');
}

let firstTree: string[];
let firstMeta: string;

/** The first cluster is untouched: same files, same meta, still up. */
async function assertFirstUntouched(): Promise<void> {
  assert.deepEqual(await listTree(join(env.userHome, 'one')), firstTree);
  assert.equal(await readFile(join(env.home, 'storage', 'clusters', FIRST, 'meta.yaml'), 'utf8'), firstMeta);
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', FIRST]);
  assert.deepEqual(
    view.processes.map((p) => p.status),
    ['Up'],
  );
}

before(async () => {
  env = await e2eEnv();
  topologies = await tempDir('mup-e2e-topologies-');
  const run = await deploy(FIRST, await standaloneTopology('one.yaml', 'one', 0), [
    '--port-base',
    String(PORT_BASE + 10),
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  firstPort = (JSON.parse(run.stdout) as { instances: { port: number }[] }).instances[0]?.port ?? 0;
  assert.ok(firstPort >= PORT_BASE + 10, `allocated port ${firstPort}`);
  firstTree = await listTree(join(env.userHome, 'one'));
  firstMeta = await readFile(join(env.home, 'storage', 'clusters', FIRST, 'meta.yaml'), 'utf8');
});

after(async () => {
  await destroyCluster(env, FIRST, 120_000);
});

async function listen(port: number, host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

test('a port already in use is refused (exit 2) naming the endpoint', async () => {
  // A port the system picks, so that nothing else can be holding it already.
  const holder = await listen(0, '127.0.0.1');
  const port = (holder.address() as AddressInfo).port;
  try {
    const run = await deploy('busy', await standaloneTopology('busy.yaml', 'busy', port));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`port already in use: localhost:${port}`));
    assert.match(run.stderr, /hint: stop what listens there, choose other ports, or use `port: 0`/);
    await assertNothingLeft('busy', 'busy');
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});

test('a second cluster claiming a host:port of an existing cluster is refused (exit 2) naming it', async () => {
  const topology = await standaloneTopology('claim.yaml', 'claim', firstPort);
  const run = await deploy('claim', topology);
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`${topology}:5:11.*localhost:${firstPort} is already used by cluster "${FIRST}"`),
  );
  await assertNothingLeft('claim', 'claim');
  await assertFirstUntouched();
});

test('a second cluster sharing the global deploy_dir (its supervisor dir) of an existing cluster is refused', async () => {
  // One supervisord per cluster per host lives in <global deploy_dir>/supervisor (PRODUCT.md §5): a second
  // cluster there would overwrite the first one's supervisor.ini, pid file and log.
  const topology = await standaloneTopology('shared.yaml', 'one', 0);
  const run = await deploy('shared', topology);
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`${env.userHome}/one/supervisor on localhost is the supervisor dir of cluster "${FIRST}"`),
  );
  assert.match(run.stderr, /hint: give this cluster another global deploy_dir/);
  assert.equal(existsSync(join(env.home, 'storage', 'clusters', 'shared')), false);
  assert.equal(simPidsMatching(`${env.userHome}/one/`).length, 1, 'only the first cluster runs there');
  await assertFirstUntouched();
});

test('a cluster of another MUP_HOME in the same deploy_dir is refused by its supervisor.ini on disk', async () => {
  const topology = await standaloneTopology('elsewhere.yaml', 'one', 0);
  const otherHome = await tempDir('mup-e2e-home-');
  const run = await runMup(
    [
      'cluster',
      'deploy',
      'elsewhere',
      topology,
      '--version',
      env.version,
      '--binary-path',
      env.binDir,
      '--yes',
    ],
    { home: otherHome, env: { HOME: env.userHome } },
  );
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `${env.userHome}/one/supervisor/supervisor.ini on localhost already exists: another cluster \\(of another MUP_HOME\\?\\) runs its supervisord there`,
    ),
  );
  assert.deepEqual(await listTree(otherHome), [], 'nothing written to the other MUP_HOME');
  await assertFirstUntouched();
});

/** A standalone topology whose one mongod uses `dataDir` as its data dir. */
async function topologyWithDataDir(file: string, deployDir: string, port: number, dataDir: string) {
  const path = join(topologies, file);
  await writeFile(
    path,
    [
      'global:',
      `  deploy_dir: ${deployDir}`,
      'mongod_servers:',
      '  - host: localhost',
      `    port: ${port}`,
      `    data_dir: ${dataDir}`,
      '',
    ].join('\n'),
  );
  return path;
}

test('a data dir holding files mup did not put there is refused, and left as it was', async () => {
  const foreign = join(await tempDir('mup-e2e-foreign-'), 'db');
  await mkdir(foreign);
  await writeFile(join(foreign, 'mongod.lock'), '');
  await writeFile(join(foreign, 'WiredTiger'), 'WiredTiger\n');
  const run = await deploy(
    'foreign',
    await topologyWithDataDir('foreign.yaml', 'foreign', PORT_BASE + 80, foreign),
  );
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `data dir ${foreign} of localhost:${PORT_BASE + 80} already holds files mup did not put there`,
    ),
  );
  assert.match(run.stderr, /hint: give this cluster other data dirs/);
  assert.deepEqual(await listTree(foreign), ['WiredTiger', 'mongod.lock']);
  await assertNothingLeft('foreign', 'foreign');
});

test('a data dir holding only lost+found (a freshly made filesystem) counts as empty', async () => {
  const volume = join(await tempDir('mup-e2e-volume-'), 'db');
  await mkdir(join(volume, 'lost+found'), { recursive: true });
  const run = await deploy(
    'volume',
    await topologyWithDataDir('volume.yaml', 'volume', PORT_BASE + 82, volume),
    ['--dry-run'],
  );
  assert.equal(run.code, 0, run.stderr);
  await assertNothingLeft('volume', 'volume');
});

test('the data dir of another cluster is refused, naming that cluster', async () => {
  const view = await env.mupJson<DisplayJson>(['cluster', 'display', FIRST]);
  const taken = view.processes[0]?.dataDir;
  assert.ok(taken);
  const run = await deploy('thief', await topologyWithDataDir('thief.yaml', 'thief', PORT_BASE + 81, taken));
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `data dir ${taken} of localhost:${PORT_BASE + 81} holds the data of cluster "${FIRST}" \\(MUP_HOME ${env.home}\\)`,
    ),
  );
  await assertNothingLeft('thief', 'thief');
  await assertFirstUntouched();
});

test('destroy --keep-data keeps the data; a deploy of the same cluster takes it back', async () => {
  const topology = await standaloneTopology('kept.yaml', 'kept', PORT_BASE + 90);
  const first = await deploy('kept', topology, ['--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual((JSON.parse(first.stdout) as { reusedData: string[] }).reusedData, []);
  const uri = `mongodb://localhost:${PORT_BASE + 90}/`;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.db('app').collection('kept').insertOne({ marker: 'kept-data' });
  } finally {
    await client.close();
  }
  const destroyed = await env.mupJson<{ keptData: string[] }>([
    'cluster',
    'destroy',
    'kept',
    '--keep-data',
    '--yes',
  ]);
  assert.equal(destroyed.keptData.length, 1);
  const dataDir = destroyed.keptData[0]?.replace(/^localhost:/, '') ?? '';
  assert.ok((await listTree(dataDir)).length > 1, 'the data files are still there');
  assert.deepEqual(simPidsMatching(`${join(env.userHome, 'kept')}/`), []);

  // The kept data fits only the member it came from.
  const moved = await deploy(
    'kept',
    await topologyWithDataDir('moved.yaml', 'kept', PORT_BASE + 91, dataDir),
    ['--dry-run'],
  );
  assert.equal(moved.code, 2, moved.stderr);
  assert.match(
    moved.stderr,
    new RegExp(
      `data dir ${dataDir} of localhost:${PORT_BASE + 91} holds the kept data of localhost:${PORT_BASE + 90}`,
    ),
  );

  const again = await deploy('kept', topology, ['--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((JSON.parse(again.stdout) as { reusedData: string[] }).reusedData, [
    `localhost:${dataDir}`,
  ]);
  const reader = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    assert.ok(
      await reader.db('app').collection('kept').findOne({ marker: 'kept-data' }),
      'the kept document is back',
    );
  } finally {
    await reader.close();
  }
  const removed = await env.mup(['cluster', 'destroy', 'kept', '--yes']);
  assert.equal(removed.code, 0, removed.stderr);
  await assertNothingLeft('kept', 'kept');
});

test('--version may be left out only with --binary-path, whose binaries then give it', async () => {
  const topology = await standaloneTopology('nover2.yaml', 'nover2', 0);
  const refused = await env.mup(['cluster', 'deploy', 'nover2', topology, '--yes']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /required option '--version <version>' not specified/);
  assert.match(refused.stderr, /hint: pass --version \(e\.g\. 8\.0\), or --binary-path/);
  const planned = await env.mupJson<{ version: string }>([
    'cluster',
    'deploy',
    'nover2',
    topology,
    '--binary-path',
    env.binDir,
    '--dry-run',
    ...ALLOW_ROOT,
  ]);
  assert.equal(planned.version, env.version);
  await assertNothingLeft('nover2', 'nover2');
});

test('an existing cluster name is refused (exit 2)', async () => {
  const run = await deploy(FIRST, await standaloneTopology('again.yaml', 'again', 0));
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`cluster '${FIRST}' already exists`));
  assert.match(run.stderr, new RegExp(`mup cluster start ${FIRST}`));
  await assertNothingLeft(undefined, 'again');
  await assertFirstUntouched();
});

test('an invalid cluster name is refused (exit 2)', async () => {
  const run = await deploy('bad name!', await standaloneTopology('named.yaml', 'named', 0));
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /invalid cluster name 'bad name!'/);
  assert.match(run.stderr, /hint: use 1–63 letters, digits, dots, dashes or underscores/);
  assert.deepEqual(await listTree(join(env.home, 'storage', 'clusters')), await storeOfFirst());
  await assertNothingLeft('named', 'named');
});

/** The store holds only the first cluster's files. */
async function storeOfFirst(): Promise<string[]> {
  return (await listTree(join(env.home, 'storage', 'clusters'))).filter((p) => p.startsWith(`${FIRST}/`));
}

test('a topology file that does not exist is refused (exit 2)', async () => {
  const missing = join(topologies, 'nope.yaml');
  const run = await deploy('nofile', missing);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`cannot read topology file ${missing}: no such file`));
  await assertNothingLeft('nofile', 'nofile');
});

test('a missing supervisord is refused with the install command (MUP_SUPERVISORD not executable)', async () => {
  const topology = await standaloneTopology('nosup.yaml', 'nosup', 0);
  const run = await runMup(env.deployArgs('nosup', topology, ALLOCATE_FROM), {
    home: env.home,
    env: { HOME: env.userHome, MUP_SUPERVISORD: join(topologies, 'no-such-supervisord') },
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^Error: supervisord was not found on localhost /m);
  assert.match(run.stderr, /MUP_SUPERVISORD=\S+no-such-supervisord is not an executable file/);
  assert.match(run.stderr, /apt-get install supervisor/);
  await assertNothingLeft('nosup', 'nosup');
});

test('a missing supervisord is refused when PATH has none', async () => {
  const topology = await standaloneTopology('nopath.yaml', 'nopath', 0);
  const emptyBin = await tempDir('mup-e2e-empty-path-');
  const run = await runMup(env.deployArgs('nopath', topology, ALLOCATE_FROM), {
    home: env.home,
    env: { HOME: env.userHome, PATH: emptyBin, MUP_SUPERVISORD: '' },
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    /^Error: supervisord was not found on localhost \(not in MUP_SUPERVISORD nor on PATH\)/m,
  );
  assert.match(run.stderr, /apt-get install supervisor/);
  await assertNothingLeft('nopath', 'nopath');
});

test('a version not in the cache with an empty mirror is refused, nothing downloaded or installed', async () => {
  const topology = await standaloneTopology('nover.yaml', 'nover', 0);
  // An empty local mirror: nothing may leave this machine.
  const mirror = await tempDir('mup-e2e-empty-mirror-');
  const run = await runMup(
    [
      'cluster',
      'deploy',
      'nover',
      topology,
      '--version',
      '7.0.14',
      '--yes',
      '--port-base',
      ALLOCATE_FROM,
      ...ALLOW_ROOT,
    ],
    {
      home: env.home,
      env: { HOME: env.userHome, MUP_MIRROR: mirror },
    },
  );
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`the mirror ${mirror} has no readable release list`));
  assert.match(run.stderr, /hint: build the mirror with `mup mirror <dir> --version/);
  await assertNothingLeft('nover', 'nover');
  assert.deepEqual(await listTree(join(env.home, 'storage', 'packages')), [], 'nothing in the binary cache');
  assert.deepEqual(await listTree(mirror), [], 'the mirror was not written to');
});

test('a version missing from the mirror is refused (exit 2) naming the nearest ones, nothing installed', async () => {
  const topology = await standaloneTopology('notlisted.yaml', 'notlisted', 0);
  const mirror = await tempDir('mup-e2e-mirror-');
  await makeFakeReleases({
    outDir: mirror,
    versions: [
      { version: '6.0.16', targets: ['ubuntu2204'] },
      { version: '7.0.12', targets: ['ubuntu2204'] },
    ],
    baseUrl: '',
  });
  const before = await listTree(mirror);
  const run = await runMup(
    [
      'cluster',
      'deploy',
      'notlisted',
      topology,
      '--version',
      '7.0.14',
      '--yes',
      '--port-base',
      ALLOCATE_FROM,
      ...ALLOW_ROOT,
    ],
    { home: env.home, env: { HOME: env.userHome, MUP_MIRROR: mirror } },
  );
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^Error: MongoDB 7\.0\.14 is not in the release list$/m);
  assert.match(run.stderr, /^hint: nearest valid versions: 7\.0\.12$/m);
  await assertNothingLeft('notlisted', 'notlisted');
  assert.deepEqual(await listTree(join(env.home, 'storage', 'packages')), [], 'nothing in the binary cache');
  assert.deepEqual(await listTree(mirror), before, 'the mirror was not written to');
});

test('--binary-path whose binaries report another version is refused (exit 2)', async () => {
  const topology = await standaloneTopology('oldbin.yaml', 'oldbin', 0);
  const other = await simBinaryDir('6.0.5');
  const run = await env.mup([
    'cluster',
    'deploy',
    'oldbin',
    topology,
    '--version',
    '7.0.14',
    '--binary-path',
    other,
    '--yes',
    '--port-base',
    ALLOCATE_FROM,
  ]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`${other}/mongod is version 6.0.5, expected 7.0.14`));
  assert.match(run.stderr, /hint: point --binary-path at binaries of the requested version/);
  await assertNothingLeft('oldbin', 'oldbin');
});

test('--dry-run prints the plan (text) and changes nothing', async () => {
  const topology = await standaloneTopology('dry.yaml', 'dry', 0);
  const run = await deploy('dry', topology, ['--dry-run']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'Plan: deploy dry');
  const phases = lines.filter((l) => /^ {2}\d+\. /.test(l)).map((l) => l.trim());
  assert.deepEqual(phases, [
    '1. Prepare directories and binaries',
    '2. Render configuration files (in parallel)',
    '3. Start supervisord',
    '4. Start mongod processes',
    '5. Record which programs supervisord starts at boot',
    '6. Start supervisord at boot',
    '7. Finish',
  ]);
  assert.ok(
    lines.some((l) => /^ {5}- start mongod-\d+ on localhost$/.test(l)),
    run.stdout,
  );
  assert.ok(lines.includes('     - start supervisord on localhost'), run.stdout);
  await assertNothingLeft('dry', 'dry');
});

test('--dry-run --json prints the plan as JSON with allocated ports and changes nothing', async () => {
  const dir = join(topologies, 'dry-json');
  await mkdir(dir);
  // port: 0 shows the port a real deploy would allocate from --port-base.
  const topology = await standaloneTopology('dry-json/topology.yaml', 'dryjson', 0);
  const run = await deploy('dryjson', topology, [
    '--dry-run',
    '--json',
    '--port-base',
    String(PORT_BASE + 60),
  ]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as {
    schemaVersion: number;
    cluster: string;
    kind: string;
    dryRun: boolean;
    opId?: string;
    uri: string;
    instances: { id: string; port: number; program: string }[];
    plan: { operation: string; cluster: string; phases: { name: string; steps: { id: string }[] }[] };
  };
  assert.equal(result.schemaVersion, 1);
  assert.equal(result.cluster, 'dryjson');
  assert.equal(result.kind, 'standalone');
  assert.equal(result.dryRun, true);
  assert.equal(result.opId, undefined, 'no operation was journaled');
  const port = result.instances[0]?.port ?? 0;
  assert.ok(port >= PORT_BASE + 60 && port < PORT_BASE + 100, `allocated port ${port}`);
  assert.equal(result.uri, `mongodb://localhost:${port}/`);
  assert.equal(result.plan.operation, 'deploy');
  assert.deepEqual(
    result.plan.phases.map((p) => p.name),
    ['prepare', 'configure', 'supervisord', 'start-mongod', 'desired-state', 'boot', 'finish'],
  );
  assert.deepEqual(
    result.plan.phases.flatMap((p) => p.steps.map((s) => s.id)),
    [
      `prepare:localhost:${port}`,
      `config:localhost:${port}`,
      'supervisor-config:localhost',
      'supervisord:localhost',
      `start:localhost:${port}`,
      'autostart:localhost',
      'boot:localhost',
      'status:running',
    ],
  );
  await assertNothingLeft('dryjson', 'dryjson');
});
