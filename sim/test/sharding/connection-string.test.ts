// Replica-set connection strings as configDB and addShard take them, and the catalog's per-version
// document shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId, UUID } from 'bson';
import { chunkDoc, databaseDoc, shardDoc, versionDoc } from '../../src/sharding/catalog.js';
import {
  configDbProblem,
  formatConnectionString,
  normalizeHost,
  parseConnectionString,
} from '../../src/sharding/connection-string.js';
import { parseVersion } from '../../src/version.js';

describe('sharding connection strings', () => {
  it('parses set/host lists and makes ports explicit', () => {
    const cs = parseConnectionString('cfg/a:27019,b');
    assert.equal(cs.setName, 'cfg');
    assert.deepEqual(cs.hosts, ['a:27019', 'b:27017']);
    assert.equal(formatConnectionString(cs), 'cfg/a:27019,b:27017');
    assert.equal(parseConnectionString('h1:1,h2:2').setName, '');
    assert.equal(normalizeHost('[::1]'), '[::1]:27017');
    assert.equal(normalizeHost('[::1]:5'), '[::1]:5');
  });

  it('refuses empty lists and bad ports', () => {
    assert.throws(() => parseConnectionString('cfg/'));
    assert.throws(() => parseConnectionString('cfg/h:port'));
  });

  it('configDB must name a replica set (the mirrored form is gone)', () => {
    assert.equal(configDbProblem('cfg/h:1,h:2'), undefined);
    assert.match(configDbProblem('h:1,h:2') ?? '', /configdb supports only replica set connection string/);
    assert.match(configDbProblem('cfg/') ?? '', /BadValue/);
  });
});

describe('catalog documents per version', () => {
  const v36 = parseVersion('3.6.23');
  const v50 = parseVersion('5.0.28');
  const v70 = parseVersion('7.0.14');

  it('config.version carries min/current versions only before 5.0', () => {
    assert.equal(versionDoc(v36).currentVersion?.valueOf(), 6);
    assert.equal(versionDoc(v70).currentVersion, undefined);
    assert.ok(versionDoc(v70).clusterId);
  });

  it('config.shards gets topologyTime from 5.0', () => {
    assert.equal(shardDoc(v36, 's', 's/h:1').topologyTime, undefined);
    assert.ok(shardDoc(v50, 's', 's/h:1').topologyTime);
  });

  it('config.databases has partitioned before 6.0 and a timestamped version from 5.0', () => {
    const old = databaseDoc(v36, 'd', 's', new UUID(), 1, true);
    assert.equal(old.partitioned, true);
    assert.equal(old.version.timestamp, undefined);
    const now = databaseDoc(v70, 'd', 's', new UUID(), 1, true);
    assert.equal(now.partitioned, undefined);
    assert.ok(now.version.timestamp);
  });

  it('config.chunks name their collection by ns before 5.0 and by uuid after', () => {
    const uuid = new UUID();
    const a = chunkDoc(v36, 'd.c', uuid, {}, {}, 's', new ObjectId(), 1);
    assert.equal(a.ns, 'd.c');
    assert.equal(a.uuid, undefined);
    const b = chunkDoc(v50, 'd.c', uuid, {}, {}, 's', new ObjectId(), 1);
    assert.equal(b.ns, undefined);
    assert.equal(b.uuid, uuid);
  });
});
