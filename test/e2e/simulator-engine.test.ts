// `--simulator`: mup's own simulator installed into the cache as the `simulator` variant, used with no
// network at all (MUP_MIRROR points at a loopback server that counts requests: it must see none; anything
// else is refused by the tests' network guard), labelled "simulator (not MongoDB)" wherever the cluster is
// shown, and refused where it cannot work.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { type MupRun, runMup, tempDir } from '../helpers/cli.js';
import { ALLOW_ROOT, type DisplayJson, e2ePortBase, simPidsMatching } from '../helpers/e2e.js';

const PORT_BASE = e2ePortBase();
const label = 'simulator (not MongoDB)';
let home: string;
let mirror: Server;
let mirrorHits = 0;
let mirrorUrl: string;

async function mup(args: readonly string[], timeoutMs = 180_000): Promise<MupRun> {
  const userHome = join(home, 'user');
  return runMup(args, { home, env: { HOME: userHome, MUP_MIRROR: mirrorUrl }, timeoutMs });
}

before(async () => {
  home = await tempDir('mup-e2e-simulator-');
  mirror = createServer((_req, res) => {
    mirrorHits += 1;
    res.statusCode = 500;
    res.end();
  });
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`;
});

// A cluster a failed test left behind is destroyed, and a destroy that fails fails the run (leaked
// supervisord and simulator processes are bugs, not noise).
after(async () => {
  try {
    const clusters = join(home, 'storage', 'clusters');
    for (const name of existsSync(clusters) ? readdirSync(clusters) : []) {
      const run = await mup(['cluster', 'destroy', name, '--yes'], 120_000);
      assert.equal(run.code, 0, `cleanup: mup cluster destroy ${name} exited ${run.code}\n${run.stderr}`);
    }
  } finally {
    await new Promise((resolve) => mirror.close(resolve));
  }
});

test('playground start --simulator: offline, installed as the simulator variant, labelled, destroyed clean', async () => {
  const started = await mup([
    'playground',
    'start',
    '--simulator',
    ...ALLOW_ROOT,
    '--version',
    '7.0',
    '--nodes',
    '1',
    '--port',
    String(PORT_BASE),
    '--json',
  ]);
  assert.equal(started.code, 0, started.stderr);
  const result = JSON.parse(started.stdout) as {
    variant: string;
    engine: string;
    version: string;
    uri: string;
  };
  assert.equal(result.variant, 'simulator');
  assert.equal(result.engine, label);
  assert.equal(result.version, '7.0.16');
  assert.equal(mirrorHits, 0, 'the mirror was contacted');

  // The package sits in the cache under the simulator variant, with its markers.
  const listed = JSON.parse((await mup(['mongo', 'list', '--json'])).stdout) as {
    installed: { variant: string; version: string; target: string; binDir: string }[];
  };
  assert.deepEqual(
    listed.installed.map((p) => `${p.variant} ${p.version} ${p.target}`),
    ['simulator 7.0.16 node'],
  );
  assert.ok(
    readFileSync(join(listed.installed[0]?.binDir ?? '', 'mongos'), 'utf8').includes(
      "MONGOD_SIM_PROGRAM='mongos'",
    ),
  );

  const client = new MongoClient(result.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await client.db('play').collection('c').insertOne({ offline: true });
    assert.ok(await client.db('play').collection('c').findOne({ offline: true }));
    const build = await client.db('admin').command({ buildInfo: 1 });
    assert.equal(build.version, '7.0.16');
  } finally {
    await client.close();
  }

  const display = await mup(['playground', 'status']);
  assert.equal(display.code, 0, display.stderr);
  assert.match(display.stdout, /Version: 7\.0\.16 \(simulator \(not MongoDB\)\)/);
  const view = JSON.parse((await mup(['playground', 'status', '--json'])).stdout) as DisplayJson & {
    variant: string;
    engine: string;
  };
  assert.equal(view.variant, 'simulator');
  assert.equal(view.engine, label);
  const list = await mup(['cluster', 'list']);
  assert.match(list.stdout, /7\.0\.16 simulator \(not MongoDB\)/);
  const listJson = JSON.parse((await mup(['cluster', 'list', '--json'])).stdout) as {
    clusters: { variant: string; engine: string }[];
  };
  assert.deepEqual(
    listJson.clusters.map((c) => [c.variant, c.engine]),
    [['simulator', label]],
  );

  // Started again (stop + start) it says what it runs in its message too.
  assert.equal((await mup(['playground', 'stop'])).code, 0);
  const again = await mup(['playground', 'start']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /playground is running on the simulator \(not MongoDB\)/);

  const destroyed = await mup(['playground', 'destroy', '--yes'], 120_000);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.equal(simPidsMatching(home).length, 0);
  assert.equal(existsSync(join(home, 'playground')), false);
  assert.deepEqual(readdirSync(join(home, 'storage', 'clusters')), []);
  assert.equal(mirrorHits, 0, 'the mirror was contacted');
});

test('a cached simulator whose wrapper points elsewhere is rewritten, never used as is', async () => {
  const pkg = readdirSync(join(home, 'storage', 'packages')).find((n) => n.startsWith('simulator-7.0.16'));
  assert.ok(pkg, 'the first test installed the package');
  const wrapper = join(home, 'storage', 'packages', pkg, 'bin', 'mongod');
  writeFileSync(wrapper, '#!/bin/sh\nexec /nonexistent/node /old/main.js "$@"\n');
  const topology = join(home, 'standalone.yaml');
  writeFileSync(
    topology,
    `global:\n  deploy_dir: ${join(home, 'd')}\nmongod_servers:\n  - host: localhost\n    port: 0\n`,
  );
  const dry = await mup([
    'cluster',
    'deploy',
    'simrewrite',
    topology,
    '--simulator',
    ...ALLOW_ROOT,
    '--version',
    '7.0.16',
    '--dry-run',
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  // A dry run installs nothing: the stale wrapper is still there.
  assert.ok(readFileSync(wrapper, 'utf8').includes('/nonexistent/node'));
  const deployed = await mup([
    'cluster',
    'deploy',
    'simrewrite',
    topology,
    '--simulator',
    ...ALLOW_ROOT,
    '--version',
    '7.0.16',
    '--yes',
    '--port-base',
    String(PORT_BASE + 10),
  ]);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(
    deployed.stderr,
    /Cluster simrewrite \(standalone, simulator \(not MongoDB\) 7\.0\.16\) is running/,
  );
  assert.ok(!readFileSync(wrapper, 'utf8').includes('/nonexistent/node'));
  const destroyed = await mup(['cluster', 'destroy', 'simrewrite', '--yes'], 120_000);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.equal(mirrorHits, 0, 'the mirror was contacted');
});

test('--simulator refuses what it cannot honour, with exit 2 and nothing deployed', async () => {
  const remote = join(home, 'remote.yaml');
  writeFileSync(remote, 'mongod_servers:\n  - host: 198.18.0.9\n    port: 27017\n');
  const cases: [string[], RegExp][] = [
    [['playground', 'start', '--simulator', '--binary-path', '/tmp'], /cannot be used with/],
    [['playground', 'start', '--simulator', '--variant', 'percona'], /cannot be used with/],
    [['playground', 'start', '--simulator', '--mirror', '/tmp'], /cannot be used with/],
    [['playground', 'start', '--simulator', '--target', 'ubuntu2204'], /cannot be used with/],
    [['playground', 'start', '--simulator', '--version', '9.9'], /MongoDB 9\.9 is not emulated/],
    [['playground', 'start', '--simulator', '--version', '3.4.1'], /MongoDB 3\.4\.1 is not emulated/],
    [['playground', 'start', '--simulator', '--version', 'latest'], /invalid version "latest"/],
    [['cluster', 'deploy', 'far', remote, '--simulator', '--yes'], /runs on this machine only/],
  ];
  for (const [args, message] of cases) {
    // As root, --allow-root: the refusal under test comes after the run-as check.
    const run = await mup([...args, ...ALLOW_ROOT]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
  }
  assert.deepEqual(readdirSync(join(home, 'storage', 'clusters')), []);
  assert.equal(mirrorHits, 0, 'the mirror was contacted');
});
