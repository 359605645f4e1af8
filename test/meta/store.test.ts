import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { resolveMupHome } from '../../src/meta/home.js';
import {
  type ClusterMeta,
  ClusterNotFoundError,
  ClusterStore,
  CorruptMetaError,
  META_SCHEMA_VERSION,
} from '../../src/meta/store.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { tempDir } from '../helpers/cli.js';

const V1_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'meta', 'v1-replset.yaml');

/** A stored cluster as a v1 store holds it, copied into a fresh home. */
async function storeWithV1(name = 'prod'): Promise<ClusterStore> {
  const store = new ClusterStore(await tempDir());
  await mkdir(store.clusterDir(name), { recursive: true });
  const text = (await readFile(V1_FIXTURE, 'utf8')).replace(/^name: prod$/m, `name: ${name}`);
  await writeFile(store.metaPath(name), text);
  return store;
}

test('a v1 meta migrates on read: schema 2, and its rebuilt spec resolves to the same topology', async () => {
  const store = await storeWithV1();
  const before = await readFile(store.metaPath('prod'), 'utf8');
  const meta = await store.read('prod');
  assert.equal(meta.schemaVersion, META_SCHEMA_VERSION);
  assert.equal(meta.spec.global?.deploy_dir, '/srv/mup/prod');
  // The rebuilt spec is a valid topology file whose resolution gives back every stored path, port and option.
  const spec = validateTopology(stringify(meta.spec), 'spec');
  const resolved = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/root' });
  const strip = (i: ClusterMeta['topology']['instances'][number]) => ({ ...i, portAllocated: false });
  assert.deepEqual(resolved.instances.map(strip), meta.topology.instances.map(strip));
  assert.deepEqual(resolved.replicaSets, meta.topology.replicaSets);
  // Reading changes nothing on disk; the next write stores schema 2 with the spec.
  assert.equal(await readFile(store.metaPath('prod'), 'utf8'), before);
  await store.write(meta);
  assert.match(await readFile(store.metaPath('prod'), 'utf8'), /^schemaVersion: 2$/m);
  assert.deepEqual((await store.read('prod')).spec, meta.spec);
});

test('meta is written atomically with a backup of the previous copy, and read back', async () => {
  const store = await storeWithV1('c1');
  const meta = await store.read('c1');
  await store.write({ ...meta, version: '7.0.15' });
  await store.write({ ...meta, version: '8.0.4' });
  assert.equal((await store.read('c1')).version, '8.0.4');
  assert.match(await readFile(`${store.metaPath('c1')}.bak`, 'utf8'), /version: 7\.0\.15/);
  assert.equal((await stat(store.metaPath('c1'))).mode & 0o777, 0o600);
  assert.deepEqual(await store.list(), ['c1']);
});

test('a corrupt meta is refused with its file named and the field at fault, never half-read', async () => {
  const store = await storeWithV1();
  const good = await readFile(store.metaPath('prod'), 'utf8');
  const path = store.metaPath('prod');
  const cases: [string, RegExp][] = [
    ['', /not a mup cluster meta/],
    ['name: [unclosed\n', /not valid YAML/],
    ['- a\n- b\n', /not a mup cluster meta/],
    [good.replace('port: 27102', 'port: abc'), /topology\.instances\.1\.port/],
    [good.replace(/^topology:/m, 'topologie:'), /topology/],
    [good.replace('schemaVersion: 1', 'schemaVersion: 0'), /unknown meta schema version 0/],
    [good.replace(/^name: prod$/m, 'name: other'), /names cluster 'other'/],
  ];
  for (const [text, message] of cases) {
    await writeFile(path, text);
    await assert.rejects(store.read('prod'), (error: Error) => {
      assert.ok(error.message.includes(path), `names the file: ${error.message}`);
      assert.match(error.message, message);
      return true;
    });
  }
  await writeFile(path, 'schemaVersion: 99\nname: prod\n');
  await assert.rejects(store.read('prod'), /newer than this mup reads/);
  await writeFile(path, 'schemaVersion: 2\nname: prod\n');
  await assert.rejects(store.read('prod'), CorruptMetaError);
});

test('one corrupt meta never hides the other clusters', async () => {
  const store = await storeWithV1('a');
  const text = await readFile(store.metaPath('a'), 'utf8');
  await mkdir(store.clusterDir('b'), { recursive: true });
  await writeFile(store.metaPath('b'), 'garbage: [');
  await mkdir(store.clusterDir('c'), { recursive: true });
  await writeFile(store.metaPath('c'), text.replace(/^name: a$/m, 'name: c'));
  const entries = await store.readAll();
  assert.deepEqual(
    entries.map((e) => [e.name, e.meta !== undefined, e.error !== undefined]),
    [
      ['a', true, false],
      ['b', false, true],
      ['c', true, false],
    ],
  );
  assert.match(entries[1]?.error?.message ?? '', /b\/meta\.yaml: not valid YAML/);
});

test('reading a missing cluster names it', async () => {
  const store = new ClusterStore(await tempDir());
  await assert.rejects(store.read('nope'), ClusterNotFoundError);
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
});

test('metas written before auth existed read as clusters without auth; an auth meta keeps its security', async () => {
  // v1 without the auth field at all, v2 with `auth: false` and without `security`.
  const store = await storeWithV1('old');
  const v1 = (await readFile(store.metaPath('old'), 'utf8')).replace(/^auth: false\n/m, '');
  assert.doesNotMatch(v1, /^auth:/m);
  await writeFile(store.metaPath('old'), v1);
  const fromV1 = await store.read('old');
  assert.equal(fromV1.auth, false);
  assert.equal(fromV1.security, undefined);
  await store.write(fromV1);
  const v2 = await readFile(store.metaPath('old'), 'utf8');
  assert.match(v2, /^schemaVersion: 2$/m);
  assert.match(v2, /^auth: false$/m);
  assert.equal((await store.read('old')).auth, false);

  const security = { adminUser: 'mup-admin', keyFiles: [{ host: 'localhost', path: '/srv/k/keyfile' }] };
  await store.write({ ...fromV1, auth: true, security });
  const withAuth = await store.read('old');
  assert.equal(withAuth.auth, true);
  assert.deepEqual(withAuth.security, security);

  // A keyFile path that is not absolute is refused like any other bad field.
  await writeFile(
    store.metaPath('old'),
    v2.replace(
      /^auth: false$/m,
      'auth: true\nsecurity: { adminUser: a, keyFiles: [{ host: localhost, path: rel/keyfile }] }',
    ),
  );
  await assert.rejects(store.read('old'), /security\.keyFiles\.0\.path/);
});

test('secrets are 0600 files in a 0700 dir', async () => {
  const store = new ClusterStore(await tempDir());
  const path = await store.writeSecret('s1', 'keyfile', 'abc');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(store.secretsDir('s1'))).mode & 0o777, 0o700);
  assert.equal(await store.readSecret('s1', 'keyfile'), 'abc');
  assert.equal(await store.readSecret('s1', 'admin-password'), undefined);
});
