import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { InstanceRenderError, ServerConfigError } from '../../src/render/config-problems.js';
import { configDBString } from '../../src/render/context.js';
import { findMongosConfigProblems, renderMongosConfig } from '../../src/render/mongos-config.js';
import { fixtureInstance, mongosContext, withServerConfig } from './config-fixtures.js';

type Tree = Record<string, unknown>;

function problemsOf(version: string, serverConfig: Tree): Array<[string, string]> {
  return findMongosConfigProblems(
    withServerConfig(fixtureInstance('mongos'), serverConfig),
    mongosContext(version),
  ).map((p) => [p.code, p.option]);
}

describe('mongos config', () => {
  it('points at the config server replica set and has no storage or replication', () => {
    const doc = parse(renderMongosConfig(fixtureInstance('mongos'), mongosContext('7.0.14'))) as Tree;
    assert.deepEqual(doc.sharding, { configDB: 'cfg/10.0.1.1:27019,10.0.1.3:27019,10.0.1.4:27019' });
    assert.equal(doc.storage, undefined);
    assert.equal(doc.replication, undefined);
    assert.deepEqual(doc.net, { bindIp: '127.0.0.1,10.0.1.5', port: 27017 });
    assert.deepEqual(doc.processManagement, {
      fork: false,
      pidFilePath: '/home/mongodb/mongo-deploy/mongos-27017/mongos.pid',
    });
  });

  it('configDBString lists the set name, then every member', () => {
    assert.equal(configDBString('cfg', ['h1:27019', 'h2:27019']), 'cfg/h1:27019,h2:27019');
  });

  it('refuses a configDB without a replica set name (the mirrored form was removed in 3.4)', () => {
    assert.throws(
      () =>
        renderMongosConfig(fixtureInstance('mongos'), {
          ...mongosContext('7.0.14'),
          configDB: '10.0.1.1:27019,10.0.1.3:27019',
        }),
      InstanceRenderError,
    );
  });

  it('refuses a mongod instance', () => {
    assert.throws(
      () => renderMongosConfig(fixtureInstance('shard'), mongosContext('7.0.14')),
      InstanceRenderError,
    );
  });

  it('merges user settings (dotted or nested) beside the ones mup owns', () => {
    const instance = withServerConfig(fixtureInstance('mongos'), {
      'net.maxIncomingConnections': 2000,
      setParameter: { ShardingTaskExecutorPoolMaxSize: 20 },
    });
    const doc = parse(renderMongosConfig(instance, mongosContext('6.0.20'))) as Tree;
    assert.deepEqual(doc.net, { bindIp: '127.0.0.1,10.0.1.5', maxIncomingConnections: 2000, port: 27017 });
    assert.deepEqual(doc.setParameter, { ShardingTaskExecutorPoolMaxSize: 20 });
  });

  it('storage, replication and clusterRole are mongod options: mongos would exit 2 on them', () => {
    assert.deepEqual(
      problemsOf('7.0.14', {
        'storage.dbPath': '/data',
        storage: { wiredTiger: { engineConfig: { cacheSizeGB: 1 } } },
        'replication.oplogSizeMB': 1024,
        'sharding.clusterRole': 'shardsvr',
      }).sort(),
      [
        ['wrong-process', 'replication'],
        ['wrong-process', 'sharding.clusterRole'],
        ['wrong-process', 'storage'],
      ],
    );
  });

  it('security.authorization is a mongod option; the keyFile is rendered for mongos too', () => {
    assert.deepEqual(problemsOf('7.0.14', { 'security.authorization': 'enabled' }), [
      ['wrong-process', 'security.authorization'],
    ]);
    const doc = parse(
      renderMongosConfig(fixtureInstance('mongos'), {
        ...mongosContext('7.0.14'),
        security: { keyFile: '/home/mongodb/.mup/keyfile', authorization: true },
      }),
    ) as Tree;
    assert.deepEqual(doc.security, { keyFile: '/home/mongodb/.mup/keyfile' });
  });

  it('sharding.configDB, net.port and the log path belong to mup', () => {
    const error = (() => {
      try {
        renderMongosConfig(
          withServerConfig(fixtureInstance('mongos'), {
            'sharding.configDB': 'other/h:1',
            net: { port: 1 },
            systemLog: { path: '/tmp/x.log' },
          }),
          mongosContext('7.0.14'),
        );
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof ServerConfigError);
    assert.deepEqual(error.problems.map((p) => [p.code, p.option]).sort(), [
      ['mup-owned', 'net.port'],
      ['mup-owned', 'sharding.configDB'],
      ['mup-owned', 'systemLog.path'],
    ]);
  });

  it('version rules apply to mongos as well (net.tls before 4.2, net.serviceExecutor from 5.0)', () => {
    assert.deepEqual(problemsOf('3.6.23', { 'net.tls.mode': 'requireTLS' }), [
      ['not-yet-available', 'net.tls'],
    ]);
    assert.deepEqual(problemsOf('5.0.31', { 'net.serviceExecutor': 'adaptive' }), [
      ['removed', 'net.serviceExecutor'],
    ]);
    assert.deepEqual(problemsOf('4.4.29', { 'net.serviceExecutor': 'adaptive' }), []);
  });
});
