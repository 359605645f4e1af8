// Paths mup removes and writes are confined (PRODUCT.md §9): destroy never follows a symbolic link planted
// where one of its dirs was, so an unrelated directory's files survive it.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';

const PORT_BASE = e2ePortBase();
const envs: E2eEnv[] = [];

after(async () => {
  for (const env of envs) await destroyAllClusters(env, 120_000);
});

async function newEnv(): Promise<E2eEnv> {
  const env = await e2eEnv();
  envs.push(env);
  return env;
}

/** A directory that is none of mup's business, holding files that must survive. */
async function victimDir(): Promise<{ dir: string; files: string[] }> {
  const dir = await tempDir('mup-victim-');
  const files = ['data/precious-data.txt', 'bin/precious-bin.txt', 'conf/mongod.conf', 'log/mongod.log'];
  for (const file of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), `keep ${file}\n`);
  }
  return { dir, files };
}

function assertSurvived(victim: { dir: string; files: string[] }): void {
  for (const file of victim.files) {
    assert.equal(readFileSync(join(victim.dir, file), 'utf8'), `keep ${file}\n`, `${file} survived`);
  }
}

test('destroy removes a symlinked instance dir and a symlinked data dir as links only', async () => {
  const env = await newEnv();
  const topology = join(env.userHome, 'two.yaml');
  await writeFile(
    topology,
    'global: { deploy_dir: mongodb }\nmongod_servers:\n  - { host: localhost, port: 0 }\n  - { host: localhost, port: 0 }\n',
  );
  const deploy = await env.mup([...env.deployArgs('links', topology, PORT_BASE), '--json'], {
    timeoutMs: 180_000,
  });
  assert.equal(deploy.code, 0, deploy.stderr);
  const [first, second] = (JSON.parse(deploy.stdout) as { instances: { program: string }[] }).instances;
  assert.ok(first && second);
  const deployDir = join(env.userHome, 'mongodb');

  // The first instance's whole dir becomes a link to an unrelated dir with conf/, log/, data/ and bin/.
  const victimA = await victimDir();
  const instanceA = join(deployDir, first.program);
  await rename(instanceA, `${instanceA}.moved`);
  await symlink(victimA.dir, instanceA);
  // The second instance's data dir becomes a link to another one.
  const victimB = await victimDir();
  const dataB = join(deployDir, second.program, 'data');
  await rename(dataB, `${dataB}.moved`);
  await symlink(join(victimB.dir, 'data'), dataB);

  const destroy = await env.mup(['cluster', 'destroy', 'links', '--yes', '--json'], { timeoutMs: 120_000 });
  assert.equal(destroy.code, 0, destroy.stderr);
  assertSurvived(victimA);
  assertSurvived(victimB);
  assert.equal(existsSync(join(victimB.dir, 'data')), true, 'the linked data dir itself is kept');
  // The links are gone; what they stood for was never followed.
  assert.throws(() => lstatSync(instanceA), /ENOENT/);
  assert.throws(() => lstatSync(dataB), /ENOENT/);
  const removed = (JSON.parse(destroy.stdout) as { removed: string[] }).removed;
  assert.ok(removed.includes(`localhost:${instanceA}`), removed.join('\n'));
  assert.ok(removed.includes(`localhost:${dataB}`), removed.join('\n'));
  assert.ok(!removed.some((p) => p.includes(victimA.dir) || p.includes(victimB.dir)));
  // Everything mup put through real dirs is gone; the moved-aside dirs (not mup's paths any more) stay.
  assert.equal(existsSync(join(deployDir, second.program, 'conf')), false);
  assert.equal(existsSync(`${instanceA}.moved`), true);
});
