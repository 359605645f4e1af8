// Connection strings: per replica set or the mongos list, the TLS options of a TLS cluster, and the one URI
// that carries credentials (percent-encoded userinfo, authSource), never the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MongoCredentials } from '../../src/mongo/credentials.js';
import { connectionUris, credentialUri, primaryUri } from '../../src/mongo/uri.js';
import { validateTopology } from '../../src/topology/load.js';
import { resolveTopology } from '../../src/topology/resolve.js';

async function topologyOf(yaml: string) {
  return resolveTopology(validateTopology(yaml, 't.yaml'), {
    isPortFree: async () => true,
    homeOf: () => '/home/u',
  });
}

const replicaSet = `mongod_servers:
  - { host: localhost, port: 27017, replica_set: rs0 }
  - { host: localhost, port: 27018, replica_set: rs0 }
  - { host: localhost, port: 27019, replica_set: rs1 }
`;

const standalone = `mongod_servers:
  - { host: localhost, port: 27020 }
`;

const sharded = `config_servers:
  - { host: localhost, port: 27019, replica_set: cfg }
mongod_servers:
  - { host: localhost, port: 27018, replica_set: sh0 }
mongos_servers:
  - { host: localhost, port: 27017 }
  - { host: localhost, port: 27016 }
`;

const tls = { caFile: '/home/u/.mup/storage/clusters/c/secrets/ca.pem' };

test('one URI per replica set, or per standalone server; a sharded cluster is reached through its mongos list', async () => {
  assert.deepEqual(connectionUris(await topologyOf(replicaSet)), [
    { name: 'rs0', uri: 'mongodb://localhost:27017,localhost:27018/?replicaSet=rs0' },
    { name: 'rs1', uri: 'mongodb://localhost:27019/?replicaSet=rs1' },
  ]);
  assert.deepEqual(connectionUris(await topologyOf(standalone)), [
    { name: 'localhost:27020', uri: 'mongodb://localhost:27020/' },
  ]);
  assert.equal(primaryUri(await topologyOf(sharded)), 'mongodb://localhost:27017,localhost:27016/');
});

test('a TLS cluster adds tls and the CA file (percent-encoded) to every URI', async () => {
  const uris = connectionUris(await topologyOf(replicaSet), tls);
  const caFile = encodeURIComponent(tls.caFile);
  assert.deepEqual(
    uris.map((u) => u.uri),
    [
      `mongodb://localhost:27017,localhost:27018/?replicaSet=rs0&tls=true&tlsCAFile=${caFile}`,
      `mongodb://localhost:27019/?replicaSet=rs1&tls=true&tlsCAFile=${caFile}`,
    ],
  );
  assert.equal(
    primaryUri(await topologyOf(sharded), tls),
    `mongodb://localhost:27017,localhost:27016/?tls=true&tlsCAFile=${caFile}`,
  );
});

test('only credentialUri carries the user: userinfo percent-encoded, authSource, and TLS when the cluster has it', async () => {
  const topology = await topologyOf(replicaSet);
  const credentials = new MongoCredentials('mup-admin', 'p@ss:w/rd?&', 'admin');
  const plain = credentialUri(topology, credentials);
  assert.equal(
    plain,
    'mongodb://mup-admin:p%40ss%3Aw%2Frd%3F%26@localhost:27017,localhost:27018/?replicaSet=rs0&authSource=admin',
  );
  // What a driver makes of it: the same user and password back, the hosts untouched.
  const parsed = new URL(plain.replace('mongodb://', 'http://').replace(',localhost:27018', ''));
  assert.equal(decodeURIComponent(parsed.username), credentials.username);
  assert.equal(decodeURIComponent(parsed.password), credentials.password);
  assert.equal(
    credentialUri(topology, credentials, tls),
    `${plain}&tls=true&tlsCAFile=${encodeURIComponent(tls.caFile)}`,
  );
  for (const { uri } of connectionUris(topology, tls)) assert.doesNotMatch(uri, /mup-admin|p%40ss/);
});
