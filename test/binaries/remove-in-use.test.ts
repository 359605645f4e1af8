// Which clusters of a home run from a cached package: read from each cluster's meta (binaryDir = <pkg>/bin).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { packagesDir } from '../../src/binaries/index.js';
import { type ClusterMeta, ClusterStore } from '../../src/meta/store.js';
import { clustersUsingPackages } from '../../src/ops/binaries.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { tempDir } from '../helpers/cli.js';

async function meta(name: string, binaryDir: string): Promise<ClusterMeta> {
  const spec = validateTopology('mongod_servers:\n  - { host: localhost, port: 27017 }\n', 't.yaml');
  const topology = await resolveTopology(spec, { isPortFree: async () => true, homeOf: () => '/home/me' });
  const now = new Date().toISOString();
  return {
    schemaVersion: 2,
    name,
    version: '7.0.14',
    variant: 'mongodb',
    status: 'running',
    createdAt: now,
    updatedAt: now,
    binaryDir,
    spec,
    topology,
    supervisors: [
      { host: 'localhost', httpPort: 9001, configFile: '/home/me/mongo-deploy/supervisor/supervisor.ini' },
    ],
    auth: false,
  };
}

test('clusters are matched to the package dir their binaries come from', async () => {
  const home = await tempDir('mup-home-');
  const store = new ClusterStore(home);
  const pkg = join(packagesDir(home), 'mongodb-7.0.14-ubuntu2204-x86_64');
  await store.write(await meta('prod', join(pkg, 'bin')));
  await store.write(await meta('other', '/opt/mongodb/bin'));
  const using = await clustersUsingPackages(home);
  assert.deepEqual(using(pkg), ['prod']);
  assert.deepEqual(using(join(packagesDir(home), 'mongodb-8.0.4-ubuntu2204-x86_64')), []);
});
