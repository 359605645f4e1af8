// checkTopology: the server options of every instance checked against the target version, each problem
// pointed at the key in the file that set it (per-instance config before server_configs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTopology, versionForChecks } from '../../src/render/topology-check.js';
import { TopologyError } from '../../src/topology/issues.js';

async function problems(yaml: string, version = '8.0'): Promise<string[]> {
  try {
    await checkTopology(yaml, 't.yaml', { version, isPortFree: async () => true, homeOf: () => '/home/me' });
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
  }
  return [];
}

const withConfig = (config: string) =>
  `server_configs:\n  mongod:\n${config}\nmongod_servers:\n  - { host: localhost, port: 27017 }\n`;

describe('server options checked per version at their position', () => {
  const refused: [string, RegExp][] = [
    [
      '    notASection.foo: 1',
      /is not a mongod option; mongod 8\.0 would exit 2 with "Unrecognized option: notASection\.foo"/,
    ],
    [
      '    storage.wiredTiger.engineConfig.cacheSizeGB: 0.1',
      /must be from 0\.25 to 10000, got the fraction 0\.1/,
    ],
    ['    storage.wiredTiger.engineConfig.cacheSizeGB: 20000', /must be from 0\.25 to 10000/],
    ['    storage.wiredTiger.engineConfig.cacheSizeGB: "1"', /got a string "1"/],
    ['    net.maxIncomingConnections: lots', /must be an integer of at least 1/],
    ['    net.bindIp: 123', /must be a non-empty string, got the number 123/],
    ['    net.tls.mode: requireTLS', /requireTLS needs net\.tls\.certificateKeyFile/],
    ['    net.ssl.mode: requireSSL', /requireSSL needs net\.ssl\.PEMKeyFile/],
    ['    security.clusterAuthMode: x509', /authenticates members with TLS certificates/],
    ['    systemLog.verbosity: 9', /must be from 0 to 5/],
    ['    operationProfiling.mode: sometimes', /must be one of off, slowOp, all/],
    ['    storage.journal.enabled: true', /was removed in MongoDB 6\.1/],
    ['    storage.engine: mmapv1', /mmapv1 was removed in MongoDB 4\.2/],
    [
      '    storage.wiredTigr.engineConfig.cacheSizeGB: 1',
      /did you mean storage\.wiredTiger\.engineConfig\.cacheSizeGB\?/,
    ],
    ['    replication.localPingThresholdMs: 15', /is a mongos option/],
    ['    setParameter: 5', /is a section; give its settings as a mapping/],
  ];
  for (const [line, pattern] of refused) {
    test(`${line.trim()} is refused at line 3`, async () => {
      const [problem, ...rest] = await problems(withConfig(line));
      assert.match(problem ?? '', /^3:5 server_configs\.mongod\./);
      assert.match(problem ?? '', pattern);
      assert.match(problem ?? '', /\(server option, MongoDB 8\.0\)$/);
      assert.deepEqual(rest, []);
    });
  }

  test('options added in a later version are refused for an older one, accepted for the newer', async () => {
    const yaml = withConfig('    storage.wiredTiger.engineConfig.zstdCompressionLevel: 6');
    assert.match((await problems(yaml, '4.4'))[0] ?? '', /does not exist in MongoDB 4\.4 \(added in 5\.0\)/);
    assert.deepEqual(await problems(yaml, '5.0'), []);
    const zstd = withConfig('    storage.wiredTiger.collectionConfig.blockCompressor: zstd');
    assert.match((await problems(zstd, '4.0'))[0] ?? '', /"zstd" needs MongoDB 4\.2 or later/);
    assert.deepEqual(await problems(zstd, '4.2'), []);
  });

  test('valid settings pass, setParameter and log components are open', async () => {
    const yaml = withConfig(
      [
        '    storage.wiredTiger.engineConfig.cacheSizeGB: 0.25',
        '    net.tls: { mode: requireTLS, certificateKeyFile: /srv/tls/server.pem }',
        '    setParameter: { enableLocalhostAuthBypass: false }',
        '    systemLog.component.replication.election.verbosity: 2',
      ].join('\n'),
    );
    assert.deepEqual(await problems(yaml), []);
  });

  test('a per-instance config is pointed at in the server entry, once for shared settings', async () => {
    const yaml =
      'server_configs:\n  mongod: { bogus: 1 }\nmongod_servers:\n' +
      '  - { host: localhost, port: 1, replica_set: rs }\n' +
      '  - { host: localhost, port: 2, replica_set: rs, config: { net.bindIpAll: yes } }\n';
    assert.deepEqual(await problems(yaml), [
      '2:13 server_configs.mongod.bogus: is not a mongod option; mongod 8.0 would exit 2 with "Unrecognized option: bogus" (server option, MongoDB 8.0)',
      '5:60 mongod_servers.1.config.net.bindIpAll: must be true or false, got a string "yes" (server option, MongoDB 8.0)',
    ]);
  });

  test('versions that are not a number check against the newest series', () => {
    assert.equal(versionForChecks('latest'), '8.0');
    assert.equal(versionForChecks('7.0.14'), '7.0.14');
    assert.equal(versionForChecks(undefined), '8.0');
  });
});
