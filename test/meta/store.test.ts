import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveMupHome } from '../../src/meta/home.js';
import { type ClusterMeta, ClusterNotFoundError, ClusterStore } from '../../src/meta/store.js';
import { tempDir } from '../helpers/cli.js';

function meta(name: string, version: string): ClusterMeta {
  return {
    schemaVersion: 1,
    name,
    version,
    variant: 'mongodb',
    status: 'running',
    createdAt: '2026-11-26T00:00:00.000Z',
    updatedAt: '2026-11-26T00:00:00.000Z',
    binaryDir: '/x/bin',
    topology: { kind: 'standalone', instances: [], replicaSets: [], hosts: [] },
    supervisors: [],
    auth: false,
  };
}

test('meta is written atomically with a backup of the previous copy, and read back', async () => {
  const store = new ClusterStore(await tempDir());
  await store.write(meta('c1', '7.0.14'));
  await store.write(meta('c1', '8.0.4'));
  assert.equal((await store.read('c1')).version, '8.0.4');
  assert.match(await readFile(`${store.metaPath('c1')}.bak`, 'utf8'), /version: 7\.0\.14/);
  assert.equal((await stat(store.metaPath('c1'))).mode & 0o777, 0o600);
  assert.deepEqual(await store.list(), ['c1']);
});

test('reading a missing cluster names it; a future schema version is refused', async () => {
  const store = new ClusterStore(await tempDir());
  await assert.rejects(store.read('nope'), ClusterNotFoundError);
  await store.write(meta('c2', '7.0.14'));
  await writeFile(store.metaPath('c2'), 'schemaVersion: 99\nname: c2\n');
  await assert.rejects(store.read('c2'), /unsupported meta schema version 99/);
});

test('secrets live in a 0700 dir as 0600 files', async () => {
  const store = new ClusterStore(await tempDir());
  const path = await store.writeSecret('c1', 'supervisor-password', 's3cret');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(store.secretsDir('c1'))).mode & 0o777, 0o700);
  assert.equal(await store.readSecret('c1', 'supervisor-password'), 's3cret');
  assert.equal(await store.readSecret('c1', 'none'), undefined);
});

test('bad cluster names are usage errors', () => {
  const store = new ClusterStore('/tmp');
  assert.throws(() => store.clusterDir('../etc'), /invalid cluster name/);
  assert.throws(() => store.clusterDir(''), /invalid cluster name/);
});

test('mup home: --home, then MUP_HOME, then ~/.mup', () => {
  assert.equal(resolveMupHome('/a', { MUP_HOME: '/b' }), '/a');
  assert.equal(resolveMupHome(undefined, { MUP_HOME: '/b' }), '/b');
  assert.match(resolveMupHome(undefined, {}), /\.mup$/);
  assert.equal(join('/x', 'y'), '/x/y');
});
