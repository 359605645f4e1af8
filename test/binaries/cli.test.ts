// `mup mongo` and `mup mirror` as a user runs them (built CLI, separate processes) against a release server
// on 127.0.0.1 serving simulator archives. Needs `npm run build` (dist/src/cli and dist/sim).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { access, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { makeFakeReleases } from '../../sim/src/releases.js';
import { checkBinaryPath } from '../../src/binaries/binary-path.js';
import { mupBin, runMup, tempDir } from '../helpers/cli.js';
import { ALLOW_ROOT } from '../helpers/e2e.js';
import { type ReleaseServer, startReleaseServer } from './helpers/release-server.js';

const run = promisify(execFile);
const target = ['--target', 'ubuntu2204'];
let root: string;
let server: ReleaseServer;

before(async () => {
  root = await tempDir('mup-cli-releases-');
  await makeFakeReleases({
    outDir: root,
    versions: [{ version: '7.0.14' }, { version: '7.0.12' }, { version: '6.0.16' }],
  });
  server = await startReleaseServer(root);
});

after(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

interface Package {
  name: string;
  version: string;
  target: string;
  arch: string;
  dir: string;
  binDir: string;
  sha256: string;
  alreadyInstalled?: boolean;
}

test('install, install again, list, remove', async () => {
  const home = await tempDir('mup-home-');
  const env = { MUP_MIRROR: server.url };
  const archive = '/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz';
  const first = await runMup(['mongo', 'install', '7.0', ...target], { home, env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /installed mongodb 7\.0\.14 \(ubuntu2204, x86_64\)/);
  // Not a terminal: plain progress lines on stderr.
  assert.match(
    first.stderr,
    /downloading http:\/\/127\.0\.0\.1:\d+\/linux\/mongodb-linux-x86_64-ubuntu2204-7\.0\.14\.tgz/,
  );
  assert.match(first.stderr, /100% \[#+\]/);
  assert.match(first.stderr, /sha256 [0-9a-f]{64} verified/);
  assert.equal(server.count(archive), 1);

  const binDir = join(home, 'storage', 'packages', 'mongodb-7.0.14-ubuntu2204-x86_64', 'bin');
  const { stdout } = await run(join(binDir, 'mongod'), ['--version']);
  assert.match(stdout, /^db version v7\.0\.14\n/);
  assert.equal((await checkBinaryPath(binDir, '7.0.14')).version, '7.0.14');

  const again = await runMup(['--json', 'mongo', 'install', '7.0.14', ...target], { home, env });
  assert.equal(again.code, 0, again.stderr);
  const doc = JSON.parse(again.stdout) as Package & { schemaVersion: number };
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.alreadyInstalled, true);
  assert.equal(doc.binDir, binDir);
  assert.equal(server.count(archive), 1, 'the second install downloads nothing');

  const list = await runMup(['mongo', 'list', '--json'], { home });
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { installed: Package[] };
  assert.deepEqual(
    listed.installed.map((p) => p.name),
    ['mongodb-7.0.14-ubuntu2204-x86_64'],
  );
  const table = await runMup(['mongo', 'list'], { home });
  assert.match(table.stdout, /mongodb\s+7\.0\.14\s+ubuntu2204\s+x86_64/);

  const removed = await runMup(['mongo', 'remove', '7.0.14', '--json'], { home });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((JSON.parse(removed.stdout) as { removed: Package[] }).removed[0]?.version, '7.0.14');
  await assert.rejects(access(binDir));
  const empty = await runMup(['mongo', 'list', '--json'], { home });
  assert.deepEqual((JSON.parse(empty.stdout) as { installed: Package[] }).installed, []);
  const missing = await runMup(['mongo', 'remove', '7.0.14'], { home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /MongoDB 7\.0\.14 is not installed/);
});

test('list --remote shows the release list with the chosen target', async () => {
  const run = await runMup(['mongo', 'list', '--remote', '--json', '--mirror', server.url]);
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout) as { versions: { version: string; targets: string[] }[] };
  assert.deepEqual(
    doc.versions.map((v) => v.version),
    ['7.0.14', '7.0.12', '6.0.16'],
  );
  assert.deepEqual(doc.versions[0]?.targets, ['ubuntu2204']);
});

test('failures exit non-zero with a clear message and leave nothing behind', async () => {
  const home = await tempDir('mup-home-');
  const env = { MUP_MIRROR: server.url };
  const unknown = await runMup(['mongo', 'install', '7.0.13', ...target], { home, env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /MongoDB 7\.0\.13 is not in the release list/);
  assert.match(unknown.stderr, /nearest valid versions: 7\.0\.14, 7\.0\.12/);

  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-7.0.12.tgz';
  server.faults.set(path, 'not-found');
  const notFound = await runMup(['mongo', 'install', '7.0.12', ...target], { home, env });
  assert.equal(notFound.code, 1);
  assert.match(notFound.stderr, /not found \(HTTP 404\)/);

  server.faults.set(path, 'hang');
  const hang = await runMup(['--json', 'mongo', 'install', '7.0.12', ...target], {
    home,
    env: { ...env, MUP_DOWNLOAD_TIMEOUT_MS: '400' },
    timeoutMs: 20_000,
  });
  server.faults.delete(path);
  assert.equal(hang.code, 1);
  const error = JSON.parse(hang.stdout) as { error?: { message: string } };
  assert.match(error.error?.message ?? '', /no data from 127\.0\.0\.1:\d+ for 400 ms/);
  const entries = await readdir(join(home, 'storage', 'packages'));
  assert.deepEqual(
    entries.filter((e) => !e.startsWith('.')),
    [],
  );

  const noFit = await runMup(['mongo', 'install', '7.0.14', '--target', 'rhel90'], { home, env });
  assert.equal(noFit.code, 2);
  assert.match(noFit.stderr, /7\.0\.14 has no x86_64 archive for target "rhel90"/);
  assert.match(noFit.stderr, /archives exist for: ubuntu2204/);
});

test('two mup processes installing one version both succeed and download once', async () => {
  const home = await tempDir('mup-home-');
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-6.0.16.tgz';
  server.faults.set(path, { delayMs: 800 });
  try {
    const env = { MUP_MIRROR: server.url };
    const [a, b] = await Promise.all([
      runMup(['--json', 'mongo', 'install', '6.0', ...target], { home, env }),
      runMup(['--json', 'mongo', 'install', '6.0.16', ...target], { home, env }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const docs = [a, b].map((r) => JSON.parse(r.stdout) as Package);
    assert.equal(docs[0]?.dir, docs[1]?.dir);
    assert.deepEqual(docs.map((d) => d.alreadyInstalled).sort(), [false, true]);
    assert.equal(server.count(path), 1);
  } finally {
    server.faults.delete(path);
  }
});

test('an install killed mid-download leaves nothing visible, and the next one succeeds', async () => {
  const home = await tempDir('mup-home-');
  const path = '/linux/mongodb-linux-x86_64-ubuntu2204-7.0.12.tgz';
  server.faults.set(path, 'stall');
  const child = spawn(process.execPath, [mupBin, '--json', 'mongo', 'install', '7.0.12', ...target], {
    env: { ...process.env, MUP_HOME: home, MUP_MIRROR: server.url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    // Wait (bounded) until the download has started, then kill the process without a chance to clean up.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('download never started')), 15_000);
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('"download-progress"') || chunk.includes('"download-start"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((resolve) => child.once('close', resolve));
  server.faults.delete(path);
  const listed = await runMup(['mongo', 'list', '--json'], { home });
  assert.deepEqual((JSON.parse(listed.stdout) as { installed: Package[] }).installed, []);

  const retry = await runMup(['--json', 'mongo', 'install', '7.0.12', ...target], {
    home,
    env: { MUP_MIRROR: server.url },
  });
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal((JSON.parse(retry.stdout) as Package).alreadyInstalled, false);
  assert.deepEqual(await readdir(join(home, 'storage', 'packages', '.tmp')), [], 'the leftovers are gone');
});

test('mup mirror output works as MUP_MIRROR over HTTP and as a plain directory', async () => {
  const dir = join(await tempDir('mup-mirror-'), 'mirror');
  const made = await runMup([
    '--json',
    'mirror',
    dir,
    '--version',
    '7.0',
    '6.0.16',
    ...target,
    '--mirror',
    server.url,
  ]);
  assert.equal(made.code, 0, made.stderr);
  const doc = JSON.parse(made.stdout) as { versions: string[]; archives: { path: string }[] };
  assert.deepEqual(doc.versions, ['7.0.14', '6.0.16']);
  await access(join(dir, 'full.json'));
  await access(join(dir, 'linux', 'mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz.sha256'));

  const mirrorServer = await startReleaseServer(dir);
  try {
    const viaHttp = await runMup(['--json', 'mongo', 'install', '7.0', ...target], {
      env: { MUP_MIRROR: mirrorServer.url },
    });
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
    assert.equal((JSON.parse(viaHttp.stdout) as Package).version, '7.0.14');
    assert.equal(mirrorServer.count('/linux/mongodb-linux-x86_64-ubuntu2204-7.0.14.tgz'), 1);
  } finally {
    await mirrorServer.close();
  }
  const before = [...server.requests.values()].reduce((x, y) => x + y, 0);
  const viaDir = await runMup(['--json', 'mongo', 'install', '6.0', ...target], { env: { MUP_MIRROR: dir } });
  assert.equal(viaDir.code, 0, viaDir.stderr);
  assert.equal((JSON.parse(viaDir.stdout) as Package).version, '6.0.16');
  assert.equal(
    [...server.requests.values()].reduce((x, y) => x + y, 0),
    before,
    'no request to the origin',
  );
});

test('cluster deploy and playground start take --target; the hint names the commands that take it', async () => {
  const home = await tempDir('mup-home-');
  const env = { MUP_MIRROR: server.url };
  const topology = join(root, 'standalone-target.yaml');
  await writeFile(topology, 'mongod_servers:\n  - { host: localhost, port: 0 }\n');
  const planned = await runMup(
    [
      'cluster',
      'deploy',
      'tgt',
      topology,
      '--version',
      '7.0',
      '--target',
      'ubuntu2204',
      '--dry-run',
      '--json',
      ...ALLOW_ROOT,
    ],
    { home, env },
  );
  assert.equal(planned.code, 0, planned.stderr);
  assert.equal((JSON.parse(planned.stdout) as { version: string }).version, '7.0.14');
  const noFit = await runMup(
    [
      'cluster',
      'deploy',
      'tgt',
      topology,
      '--version',
      '7.0',
      '--target',
      'rhel90',
      '--dry-run',
      ...ALLOW_ROOT,
    ],
    { home, env },
  );
  assert.equal(noFit.code, 2, noFit.stderr);
  assert.match(
    noFit.stderr,
    /choose one with --target \(mup mongo install, cluster deploy and playground start/,
  );
  const help = await runMup(['playground', 'start', '--help'], { home, env });
  assert.match(help.stdout, /--target <target>/);
});
