// Server config fragments: dotted keys, mup-owned settings, duplicates, and merging.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deepMerge, expandServerConfig } from '../../src/topology/server-config.js';

describe('expandServerConfig', () => {
  test('dotted keys become nested mappings, also inside nested ones', () => {
    const { config, issues } = expandServerConfig(
      {
        'storage.wiredTiger.engineConfig.cacheSizeGB': 2,
        storage: { 'wiredTiger.collectionConfig.blockCompressor': 'zstd', directoryPerDB: true },
        setParameter: { enableLocalhostAuthBypass: false },
        'net.compression.compressors': ['zstd', 'snappy'],
      },
      ['cfg'],
      'mongod',
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(config, {
      storage: {
        wiredTiger: { engineConfig: { cacheSizeGB: 2 }, collectionConfig: { blockCompressor: 'zstd' } },
        directoryPerDB: true,
      },
      setParameter: { enableLocalhostAuthBypass: false },
      net: { compression: { compressors: ['zstd', 'snappy'] } },
    });
  });

  test('every mup-owned key is refused, dotted or nested, naming the key', () => {
    const owned = [
      'net.port',
      'storage.dbPath',
      'replication.replSetName',
      'sharding.clusterRole',
      'sharding.configDB',
      'processManagement.fork',
      'processManagement.pidFilePath',
      'systemLog.path',
      'systemLog.destination',
    ];
    for (const key of owned) {
      const [section, leaf] = key.split('.') as [string, string];
      const forms = [
        { fragment: { [key]: 'x' }, path: ['server_configs', 'mongod', key] },
        { fragment: { [section]: { [leaf]: 'x' } }, path: ['server_configs', 'mongod', section, leaf] },
      ];
      for (const { fragment, path } of forms) {
        const { issues } = expandServerConfig(fragment, ['server_configs', 'mongod'], 'mongod');
        assert.equal(issues.length, 1, key);
        assert.deepEqual(issues[0]?.path, path);
        assert.match(
          issues[0]?.message ?? '',
          new RegExp(`^mup owns ${key.replace('.', '\\.')}: .* \\(mup-owned key\\)$`),
        );
      }
    }
  });

  test('a section that holds an owned key must be a mapping', () => {
    const { issues } = expandServerConfig({ systemLog: 'quiet' }, ['c'], 'mongod');
    assert.deepEqual(issues, [
      {
        path: ['c', 'systemLog'],
        message: 'must be a mapping: it holds systemLog.path, which mup sets (config section)',
      },
    ]);
  });

  test('a key set twice is reported where it is set the second time', () => {
    const { issues } = expandServerConfig(
      { operationProfiling: { mode: 'all' }, 'operationProfiling.mode': 'off' },
      ['c'],
      'mongod',
    );
    assert.deepEqual(issues, [
      {
        path: ['c', 'operationProfiling.mode'],
        message:
          'operationProfiling.mode is already set in another form (dotted and nested) (duplicate config key)',
        atKey: true,
      },
    ]);
  });

  test('a value and a section at the same key conflict', () => {
    const { issues } = expandServerConfig(
      { security: 'on', 'security.authorization': 'enabled' },
      ['c'],
      'mongod',
    );
    assert.equal(issues.length, 1);
    assert.match(issues[0]?.message ?? '', /already set at c\.security \(duplicate config key\)/);
  });

  test('mongos has no storage or replication sections', () => {
    const { issues } = expandServerConfig({ replication: { oplogSizeMB: 10 } }, ['m'], 'mongos');
    assert.deepEqual(
      issues.map((i) => i.message),
      ['mongos has no replication options; it would refuse to start (mongos options)'],
    );
    assert.deepEqual(expandServerConfig({ replication: { oplogSizeMB: 10 } }, ['m'], 'mongod').issues, []);
  });

  test('empty parts of a dotted key are refused', () => {
    const { issues } = expandServerConfig({ 'net..bindIp': 'x' }, ['c'], 'mongod');
    assert.equal(issues[0]?.message, 'a dotted key must not have empty parts (dotted key)');
  });
});

describe('deepMerge', () => {
  test('the override wins; mappings merge key by key; lists are replaced', () => {
    assert.deepEqual(
      deepMerge(
        { net: { bindIp: 'a', compression: { compressors: ['x'] } }, setParameter: { a: 1 } },
        { net: { compression: { compressors: ['y'] } }, setParameter: 'none' },
      ),
      { net: { bindIp: 'a', compression: { compressors: ['y'] } }, setParameter: 'none' },
    );
  });
});
