// A sharded cluster whose supervisord was lost (kill -9): `cluster start` hands config servers, shard members
// and mongos back one at a time, with a majority of every replica set and a mongos answering at every 100 ms
// sample and no majority write lost.
import { after, before, test } from 'node:test';
import { destroyAllClusters, type E2eEnv, e2eEnv, e2ePortBase } from '../helpers/e2e.js';
import { deploy, display, survivesLostSupervisord } from '../helpers/survival.js';

const PORT_BASE = e2ePortBase();
let env: E2eEnv;

before(async () => {
  env = await e2eEnv();
});

after(async () => {
  await destroyAllClusters(env);
});

test('sharded: kill -9 supervisord, then start keeps a majority of every set and a mongos serving', async () => {
  const name = 'surv-sh';
  await deploy(
    env,
    name,
    [
      'config_servers:',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      '  - { host: localhost, port: 0, replica_set: cfg }',
      'mongod_servers:',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      '  - { host: localhost, port: 0, replica_set: shard1 }',
      'mongos_servers:',
      '  - { host: localhost, port: 0 }',
      '  - { host: localhost, port: 0 }',
    ],
    PORT_BASE,
  );
  const { uri } = await display(env, name);
  await survivesLostSupervisord(env, name, uri);
});
