import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ExitCode } from '../../src/errors.js';
import {
  type ConfigProblem,
  InstanceRenderError,
  ServerConfigError,
} from '../../src/render/config-problems.js';
import { UnsupportedVersionError } from '../../src/render/mongo-version.js';
import {
  buildMongodConfig,
  findMongodConfigProblems,
  renderMongodConfig,
} from '../../src/render/mongod-config.js';
import {
  clusterContext,
  type FixtureRole,
  fixtureInstance,
  resolvedInstance,
  withServerConfig,
} from './config-fixtures.js';

type Tree = Record<string, unknown>;

function rendered(role: FixtureRole, version: string, serverConfig?: Tree): Tree {
  const base = fixtureInstance(role);
  const instance = serverConfig === undefined ? base : withServerConfig(base, serverConfig);
  const doc: unknown = parse(renderMongodConfig(instance, clusterContext(version, role)));
  assert.ok(typeof doc === 'object' && doc !== null);
  return doc as Tree;
}

function problems(role: FixtureRole, version: string, serverConfig: Tree): ConfigProblem[] {
  return findMongodConfigProblems(
    withServerConfig(fixtureInstance(role), serverConfig),
    clusterContext(version, role),
  );
}

function renderError(role: FixtureRole, version: string, serverConfig: Tree): ServerConfigError {
  const instance = withServerConfig(fixtureInstance(role), serverConfig);
  try {
    renderMongodConfig(instance, clusterContext(version, role));
  } catch (error) {
    assert.ok(error instanceof ServerConfigError, `expected ServerConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('rendering should have failed');
}

describe('mongod config: what mup sets per role', () => {
  it('a standalone has no replication and no sharding section', () => {
    const doc = rendered('standalone', '7.0.14');
    assert.equal(doc.replication, undefined);
    assert.equal(doc.sharding, undefined);
    assert.deepEqual(doc.processManagement, {
      fork: false,
      pidFilePath: '/home/dev/mongo-deploy/mongod-27017/mongod.pid',
    });
    assert.deepEqual(doc.systemLog, {
      destination: 'file',
      logAppend: true,
      path: '/home/dev/mongo-deploy/mongod-27017/log/mongod.log',
    });
  });

  it('a replica-set member names its set and has no cluster role outside a sharded cluster', () => {
    const doc = rendered('replset', '7.0.14');
    assert.deepEqual(doc.replication, { replSetName: 'rs0' });
    assert.equal(doc.sharding, undefined);
  });

  it('config servers run as configsvr and shard members as shardsvr', () => {
    assert.deepEqual(rendered('config', '8.0.4').sharding, { clusterRole: 'configsvr' });
    assert.deepEqual(rendered('config', '8.0.4').replication, { replSetName: 'cfg' });
    assert.deepEqual(rendered('shard', '8.0.4').sharding, { clusterRole: 'shardsvr' });
    assert.deepEqual(rendered('shard', '8.0.4').replication, { replSetName: 'shard1' });
  });

  it('a config server or shard member without a replica set cannot be rendered (mongod exits 2 on it)', () => {
    const { replicaSet: _r, member: _m, ...standaloneConfig } = fixtureInstance('config');
    assert.throws(
      () => renderMongodConfig(standaloneConfig, clusterContext('7.0.14', 'config')),
      InstanceRenderError,
    );
    const { replicaSet: _r2, member: _m2, ...loneShard } = fixtureInstance('shard');
    assert.throws(() => renderMongodConfig(loneShard, clusterContext('7.0.14', 'shard')), /replica set/);
  });

  it('a mongos instance is refused by the mongod renderer', () => {
    assert.throws(
      () => renderMongodConfig(fixtureInstance('mongos'), clusterContext('7.0.14', 'shard')),
      InstanceRenderError,
    );
  });
});

describe('mongod config: version awareness', () => {
  it('states storage.journal.enabled only before 6.1', () => {
    for (const version of ['3.6.23', '4.0.28', '4.2.25', '4.4.29', '5.0.31', '6.0.20']) {
      const storage = rendered('replset', version).storage as Tree;
      assert.deepEqual(storage.journal, { enabled: true }, version);
    }
    // 6.1–6.3 are rapid releases of the 6.0 family, but the option is already gone there.
    for (const version of ['6.1.0', '6.3.2', '7.0.14', '8.0.4', '8.2.1']) {
      const storage = rendered('replset', version).storage as Tree;
      assert.equal(storage.journal, undefined, version);
    }
  });

  it('reads Percona and release-candidate version strings by their numbers', () => {
    assert.equal((rendered('replset', '7.0.14-8').storage as Tree).journal, undefined);
    assert.deepEqual((rendered('replset', '6.0.19-16').storage as Tree).journal, { enabled: true });
    assert.equal((rendered('replset', '8.0.0-rc3').storage as Tree).journal, undefined);
  });

  it('renders TLS as net.ssl before 4.2 and as net.tls from 4.2', () => {
    const tls = {
      mode: 'requireTLS' as const,
      certificateKeyFile: '/etc/mup/server.pem',
      caFile: '/etc/mup/ca.pem',
    };
    const old = buildMongodConfig(fixtureInstance('replset'), {
      ...clusterContext('4.0.28', 'replset'),
      tls,
    });
    assert.deepEqual(old.net.ssl, {
      mode: 'requireSSL',
      PEMKeyFile: '/etc/mup/server.pem',
      CAFile: '/etc/mup/ca.pem',
    });
    assert.equal(old.net.tls, undefined);
    const current = buildMongodConfig(fixtureInstance('replset'), {
      ...clusterContext('4.2.25', 'replset'),
      tls,
    });
    assert.deepEqual(current.net.tls, {
      mode: 'requireTLS',
      certificateKeyFile: '/etc/mup/server.pem',
      CAFile: '/etc/mup/ca.pem',
    });
    assert.equal(current.net.ssl, undefined);
  });

  it('renders the keyFile and access control when the cluster has security settings', () => {
    const doc = parse(
      renderMongodConfig(fixtureInstance('shard'), {
        ...clusterContext('7.0.14', 'shard'),
        security: { keyFile: '/home/mongodb/.mup/keyfile', authorization: true },
      }),
    ) as Tree;
    assert.deepEqual(doc.security, { authorization: 'enabled', keyFile: '/home/mongodb/.mup/keyfile' });
  });

  it('refuses versions outside 3.6 … 8.x and strings that are not versions', () => {
    for (const version of ['3.4.24', '9.0.0', 'latest', '7']) {
      assert.throws(
        () => renderMongodConfig(fixtureInstance('standalone'), clusterContext(version, 'standalone')),
        UnsupportedVersionError,
        version,
      );
    }
  });
});

describe('mongod config: bindIp', () => {
  it('a local instance listens on 127.0.0.1 only', () => {
    assert.deepEqual(rendered('replset', '7.0.14').net, { bindIp: '127.0.0.1', port: 30001 });
  });

  it('a remote instance listens on loopback and on its host address', () => {
    assert.deepEqual(rendered('shard', '7.0.14').net, { bindIp: '127.0.0.1,10.0.1.2', port: 27018 });
  });

  it('a remote instance named by hostname lists the name (mongod resolves it at startup)', () => {
    const instance = resolvedInstance({
      role: 'mongod',
      host: 'db1.example.net',
      port: 27017,
      local: false,
      deployRoot: '/srv',
    });
    const doc = parse(renderMongodConfig(instance, clusterContext('7.0.14', 'standalone'))) as Tree;
    assert.deepEqual(doc.net, { bindIp: '127.0.0.1,db1.example.net', port: 27017 });
  });

  it('a local instance on another loopback address listens there too; an IPv6 host turns on net.ipv6', () => {
    const second = resolvedInstance({
      role: 'mongod',
      host: '127.0.0.2',
      port: 27017,
      local: true,
      deployRoot: '/d',
    });
    const v6 = resolvedInstance({ role: 'mongod', host: '::1', port: 27017, local: true, deployRoot: '/d' });
    const at127 = resolvedInstance({
      role: 'mongod',
      host: '127.0.0.1',
      port: 27017,
      local: true,
      deployRoot: '/d',
    });
    const context = clusterContext('7.0.14', 'standalone');
    assert.deepEqual(buildMongodConfig(second, context).net, { port: 27017, bindIp: '127.0.0.1,127.0.0.2' });
    assert.deepEqual(buildMongodConfig(v6, context).net, {
      port: 27017,
      bindIp: '127.0.0.1,::1',
      ipv6: true,
    });
    assert.deepEqual(buildMongodConfig(at127, context).net, { port: 27017, bindIp: '127.0.0.1' });
  });

  it('net.bindIpAll from the user replaces mup bindIp (mongod refuses both together)', () => {
    assert.deepEqual(rendered('shard', '7.0.14', { 'net.bindIpAll': true }).net, {
      bindIpAll: true,
      port: 27018,
    });
  });

  it('the user may choose bindIp, but not together with bindIpAll', () => {
    assert.deepEqual(rendered('shard', '7.0.14', { net: { bindIp: '0.0.0.0' } }).net, {
      bindIp: '0.0.0.0',
      port: 27018,
    });
    const error = renderError('shard', '7.0.14', { net: { bindIp: '10.0.1.2', bindIpAll: true } });
    assert.deepEqual(
      error.problems.map((p) => [p.code, p.option]),
      [['rejected-value', 'net.bindIpAll']],
    );
  });
});

describe('mongod config: merging the user server config', () => {
  it('deep-merges nested user settings beside mup-owned ones', () => {
    const doc = rendered('replset', '6.0.20', {
      storage: { directoryPerDB: true, wiredTiger: { engineConfig: { cacheSizeGB: 0.5 } } },
      replication: { oplogSizeMB: 2048 },
      setParameter: { transactionLifetimeLimitSeconds: 120 },
      operationProfiling: { slowOpThresholdMs: 50 },
    });
    assert.deepEqual(doc.storage, {
      dbPath: '/home/dev/mongo-deploy/mongod-30001/data',
      directoryPerDB: true,
      journal: { enabled: true },
      wiredTiger: { engineConfig: { cacheSizeGB: 0.5 } },
    });
    assert.deepEqual(doc.replication, { oplogSizeMB: 2048, replSetName: 'rs0' });
    assert.deepEqual(doc.setParameter, { transactionLifetimeLimitSeconds: 120 });
    assert.deepEqual(doc.operationProfiling, { slowOpThresholdMs: 50 });
  });

  it('expands dotted keys, also mixed with nested ones', () => {
    const doc = rendered('replset', '7.0.14', {
      'storage.wiredTiger.engineConfig.cacheSizeGB': 3,
      storage: { 'wiredTiger.collectionConfig.blockCompressor': 'zstd', directoryPerDB: true },
      'net.compression.compressors': 'zstd,snappy',
    });
    assert.deepEqual(doc.storage, {
      dbPath: '/home/dev/mongo-deploy/mongod-30001/data',
      directoryPerDB: true,
      wiredTiger: { collectionConfig: { blockCompressor: 'zstd' }, engineConfig: { cacheSizeGB: 3 } },
    });
    assert.deepEqual(doc.net, {
      bindIp: '127.0.0.1',
      compression: { compressors: 'zstd,snappy' },
      port: 30001,
    });
  });

  it('a dotted and a nested spelling of one option with different values is an error', () => {
    const found = problems('replset', '7.0.14', {
      'storage.wiredTiger.engineConfig.cacheSizeGB': 1,
      storage: { wiredTiger: { engineConfig: { cacheSizeGB: 2 } } },
    });
    assert.deepEqual(
      found.map((p) => [p.code, p.option]),
      [['duplicate-key', 'storage.wiredTiger.engineConfig.cacheSizeGB']],
    );
  });

  it('the same value spelled twice is fine', () => {
    const found = problems('replset', '7.0.14', {
      'storage.directoryPerDB': true,
      storage: { directoryPerDB: true },
    });
    assert.deepEqual(found, []);
  });

  it('a section given as a value (or the reverse) is a type mismatch, not a silent replacement', () => {
    const found = problems('replset', '7.0.14', {
      net: 'everywhere',
      systemLog: { verbosity: { level: 1 } },
    });
    assert.deepEqual(
      found.map((p) => [p.code, p.option]),
      [
        ['type-mismatch', 'net'],
        ['type-mismatch', 'systemLog.verbosity'],
      ],
    );
    const reverse = problems('replset', '7.0.14', { 'replication.replSetName.x': 1 });
    assert.deepEqual(
      reverse.map((p) => [p.code, p.option]),
      [
        ['type-mismatch', 'replication.replSetName'],
        ['mup-owned', 'replication.replSetName'],
      ],
    );
  });

  it('key order is stable whatever order the user wrote the settings in', () => {
    const a = withServerConfig(fixtureInstance('replset'), {
      setParameter: { b: 1, a: 2 },
      storage: { directoryPerDB: true, 'wiredTiger.engineConfig.cacheSizeGB': 1 },
      auditLog: { destination: 'file' },
    });
    const b = withServerConfig(fixtureInstance('replset'), {
      auditLog: { destination: 'file' },
      'storage.wiredTiger.engineConfig.cacheSizeGB': 1,
      'storage.directoryPerDB': true,
      setParameter: { a: 2, b: 1 },
    });
    const context = clusterContext('7.0.14', 'replset');
    const textA = renderMongodConfig(a, context);
    assert.equal(textA, renderMongodConfig(b, context));
    // Known sections follow MongoDB's reference order; unknown ones come after, alphabetically.
    const topLevel = textA.split('\n').filter((line) => /^[A-Za-z]/.test(line));
    assert.deepEqual(topLevel, [
      'systemLog:',
      'processManagement:',
      'net:',
      'setParameter:',
      'storage:',
      'replication:',
      'auditLog:',
    ]);
  });

  it('quotes strings that a YAML 1.1 reader would turn into booleans or numbers', () => {
    const text = renderMongodConfig(
      withServerConfig(fixtureInstance('replset'), { setParameter: { someFlag: 'yes', someId: '0x1F' } }),
      clusterContext('7.0.14', 'replset'),
    );
    assert.match(text, /someFlag: "yes"/);
    assert.match(text, /someId: "0x1F"/);
  });

  it('a user setting never leaks into the next render of another instance', () => {
    const instance = withServerConfig(fixtureInstance('replset'), { storage: { directoryPerDB: true } });
    renderMongodConfig(instance, clusterContext('7.0.14', 'replset'));
    assert.deepEqual(instance.serverConfig, { storage: { directoryPerDB: true } });
    assert.equal((rendered('replset', '7.0.14').storage as Tree).directoryPerDB, undefined);
  });
});

describe('mongod config: mup-owned keys', () => {
  const owned: Array<[FixtureRole, Tree, string]> = [
    ['replset', { net: { port: 27017 } }, 'net.port'],
    ['replset', { 'storage.dbPath': '/data/db' }, 'storage.dbPath'],
    ['replset', { replication: { replSetName: 'other' } }, 'replication.replSetName'],
    ['standalone', { 'replication.replSetName': 'rs0' }, 'replication.replSetName'],
    ['shard', { 'sharding.clusterRole': 'configsvr' }, 'sharding.clusterRole'],
    ['replset', { 'sharding.clusterRole': 'shardsvr' }, 'sharding.clusterRole'],
    ['replset', { processManagement: { fork: true } }, 'processManagement.fork'],
    ['replset', { 'processManagement.pidFilePath': '/var/run/mongod.pid' }, 'processManagement.pidFilePath'],
    ['replset', { systemLog: { path: '/var/log/mongod.log' } }, 'systemLog.path'],
    ['replset', { 'systemLog.destination': 'syslog' }, 'systemLog.destination'],
    ['replset', { 'security.keyFile': '/etc/keyfile' }, 'security.keyFile'],
    ['replset', { 'security.authorization': 'enabled' }, 'security.authorization'],
  ];
  for (const [role, serverConfig, option] of owned) {
    it(`${option} from the user (${JSON.stringify(serverConfig)}) is an error naming the key`, () => {
      const error = renderError(role, '7.0.14', serverConfig);
      assert.deepEqual(
        error.problems.map((p) => [p.code, p.option]),
        [['mup-owned', option]],
      );
      assert.equal(error.exitCode, ExitCode.usage);
      assert.match(error.message, new RegExp(option.replaceAll('.', '\\.')));
      assert.match(error.message, /managed by mup from the topology/);
      assert.ok(error.hint !== undefined && /topology file/.test(error.hint));
    });
  }

  it('a user value equal to mup value is no conflict', () => {
    assert.deepEqual(
      problems('replset', '7.0.14', {
        'net.port': 30001,
        'processManagement.fork': false,
        'replication.replSetName': 'rs0',
        'systemLog.destination': 'file',
      }),
      [],
    );
  });

  it('every conflict is reported at once', () => {
    const found = problems('shard', '7.0.14', {
      net: { port: 1 },
      storage: { dbPath: '/x', journal: { enabled: true } },
      replication: { replSetName: 'x' },
    });
    assert.deepEqual(found.map((p) => p.option).sort(), [
      'net.port',
      'replication.replSetName',
      'storage.dbPath',
      'storage.journal.enabled',
    ]);
  });
});

describe('mongod config: options the target version rejects', () => {
  it('storage.journal.enabled: accepted on 6.0, an error on 7.0 naming option, version and reason', () => {
    assert.deepEqual(problems('standalone', '6.0.20', { 'storage.journal.enabled': true }), []);
    const error = renderError('standalone', '7.0.14', { 'storage.journal.enabled': true });
    assert.equal(error.problems.length, 1);
    const [problem] = error.problems;
    assert.equal(problem?.code, 'removed');
    assert.equal(problem?.option, 'storage.journal.enabled');
    assert.match(problem?.message ?? '', /removed in MongoDB 6\.1/);
    assert.match(problem?.message ?? '', /7\.0\.14 would exit 2/);
    assert.match(problem?.message ?? '', /journaling is always on/);
  });

  it('storage.journal.enabled: false is refused on replica-set members from 4.0, allowed on a 4.0 standalone', () => {
    assert.deepEqual(problems('standalone', '4.0.28', { 'storage.journal.enabled': false }), []);
    assert.deepEqual(problems('replset', '3.6.23', { 'storage.journal.enabled': false }), []);
    assert.deepEqual(
      problems('replset', '4.0.28', { 'storage.journal.enabled': false }).map((p) => p.code),
      ['rejected-value'],
    );
  });

  it('net.tls does not exist before 4.2; net.ssl stays accepted after', () => {
    const tls = { net: { tls: { mode: 'requireTLS', certificateKeyFile: '/etc/ssl/server.pem' } } };
    assert.deepEqual(
      problems('replset', '4.0.28', tls).map((p) => [p.code, p.option]),
      [['not-yet-available', 'net.tls']],
    );
    assert.match(problems('replset', '4.0.28', tls)[0]?.message ?? '', /does not exist in MongoDB 4\.0\.28/);
    assert.deepEqual(problems('replset', '4.2.25', tls), []);
    assert.deepEqual(
      problems('replset', '8.0.4', {
        'net.ssl.mode': 'requireSSL',
        'net.ssl.PEMKeyFile': '/etc/ssl/server.pem',
      }),
      [],
    );
  });

  it('replication.enableMajorityReadConcern: false is allowed on 4.4 and refused from 5.0', () => {
    const setting = { 'replication.enableMajorityReadConcern': false };
    assert.deepEqual(problems('replset', '4.4.29', setting), []);
    for (const version of ['5.0.31', '6.0.20', '7.0.14', '8.0.4']) {
      const found = problems('replset', version, setting);
      assert.deepEqual(
        found.map((p) => [p.code, p.option]),
        [['rejected-value', 'replication.enableMajorityReadConcern']],
        version,
      );
    }
    assert.deepEqual(problems('replset', '8.0.4', { 'replication.enableMajorityReadConcern': true }), []);
  });

  it('MMAPv1 and its options are refused from 4.2', () => {
    assert.deepEqual(
      problems('standalone', '4.0.28', { storage: { engine: 'mmapv1', mmapv1: { smallFiles: true } } }),
      [],
    );
    const found = problems('standalone', '4.2.25', {
      storage: { engine: 'mmapv1', mmapv1: { smallFiles: true }, repairPath: '/r' },
    });
    assert.deepEqual(found.map((p) => [p.code, p.option]).sort(), [
      ['rejected-value', 'storage.engine'],
      ['removed', 'storage.mmapv1'],
      ['removed', 'storage.repairPath'],
    ]);
  });

  it('storage.indexBuildRetry is refused from 4.4 and net.serviceExecutor from 5.0', () => {
    assert.deepEqual(problems('standalone', '4.2.25', { 'storage.indexBuildRetry': true }), []);
    assert.deepEqual(
      problems('standalone', '4.4.29', { 'storage.indexBuildRetry': true }).map((p) => p.code),
      ['removed'],
    );
    assert.deepEqual(problems('standalone', '4.4.29', { 'net.serviceExecutor': 'adaptive' }), []);
    assert.deepEqual(
      problems('standalone', '5.0.31', { 'net.serviceExecutor': 'adaptive' }).map((p) => p.code),
      ['removed'],
    );
  });

  it('storage.oplogMinRetentionHours exists from 4.4', () => {
    assert.deepEqual(
      problems('replset', '4.2.25', { 'storage.oplogMinRetentionHours': 24 }).map((p) => p.code),
      ['not-yet-available'],
    );
    assert.deepEqual(problems('replset', '4.4.29', { 'storage.oplogMinRetentionHours': 24 }), []);
  });

  it('sharding.configDB is a mongos option', () => {
    assert.deepEqual(
      problems('shard', '7.0.14', { 'sharding.configDB': 'cfg/h:1' }).map((p) => [p.code, p.option]),
      [['wrong-process', 'sharding.configDB']],
    );
  });
});
