import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { InstanceRenderError, ServerConfigError } from '../../src/render/config-problems.js';
import {
  configDBOf,
  findTopologyConfigProblems,
  renderInstanceConfig,
} from '../../src/render/instance-config.js';
import type { ResolvedInstance, ResolvedTopology } from '../../src/topology/types.js';
import { resolvedInstance } from './config-fixtures.js';

type Tree = Record<string, unknown>;

function local(role: ResolvedInstance['role'], port: number, replicaSet?: string, serverConfig?: Tree) {
  return resolvedInstance({
    role,
    host: 'localhost',
    port,
    local: true,
    deployRoot: '/home/dev/mongo-deploy',
    ...(replicaSet === undefined ? {} : { replicaSet }),
    ...(serverConfig === undefined ? {} : { serverConfig }),
  });
}

function shardedTopology(shardConfig?: Tree): ResolvedTopology {
  return {
    kind: 'sharded',
    instances: [
      local('config', 30000, 'cfg'),
      local('config', 30001, 'cfg'),
      local('mongod', 30010, 'shard1', shardConfig),
      local('mongos', 30100),
    ],
    replicaSets: [
      {
        name: 'cfg',
        purpose: 'config',
        members: ['localhost:30000', 'localhost:30001'],
        initiator: 'localhost:30000',
        settings: {},
      },
      {
        name: 'shard1',
        purpose: 'shard',
        members: ['localhost:30010'],
        initiator: 'localhost:30010',
        settings: {},
      },
    ],
    hosts: [],
  };
}

const cluster = { clusterName: 'play', version: '8.0.4' };

function renderedDoc(instance: ResolvedInstance | undefined, topology: ResolvedTopology): Tree {
  assert.ok(instance !== undefined);
  return parse(renderInstanceConfig(instance, topology, cluster)) as Tree;
}

describe('rendering the instances of a resolved topology', () => {
  it('derives the mongos configDB from the config server replica set, in topology order', () => {
    const topology = shardedTopology();
    assert.equal(configDBOf(topology), 'cfg/localhost:30000,localhost:30001');
    assert.deepEqual(renderedDoc(topology.instances[3], topology).sharding, {
      configDB: 'cfg/localhost:30000,localhost:30001',
    });
  });

  it('gives config servers and shard members their cluster role', () => {
    const topology = shardedTopology();
    assert.deepEqual(renderedDoc(topology.instances[0], topology).sharding, { clusterRole: 'configsvr' });
    assert.deepEqual(renderedDoc(topology.instances[2], topology).sharding, { clusterRole: 'shardsvr' });
  });

  it('a replica set outside a sharded cluster has no cluster role', () => {
    const member = local('mongod', 30001, 'rs0');
    const topology: ResolvedTopology = {
      kind: 'replset',
      instances: [member],
      replicaSets: [
        { name: 'rs0', purpose: 'replset', members: [member.id], initiator: member.id, settings: {} },
      ],
      hosts: [],
    };
    assert.equal(renderedDoc(member, topology).sharding, undefined);
  });

  it('a mongos without config servers cannot be rendered', () => {
    const mongos = local('mongos', 30100);
    const topology: ResolvedTopology = {
      kind: 'standalone',
      instances: [mongos],
      replicaSets: [],
      hosts: [],
    };
    assert.throws(() => renderInstanceConfig(mongos, topology, cluster), InstanceRenderError);
  });

  it('collects the problems of every instance for validation, and rendering refuses the same ones', () => {
    const topology = shardedTopology({ 'storage.journal.enabled': true, net: { port: 27017 } });
    const found = findTopologyConfigProblems(topology, cluster);
    assert.deepEqual(
      found.map((entry) => [entry.instanceId, entry.problems.map((p) => p.option).sort()]),
      [['localhost:30010', ['net.port', 'storage.journal.enabled']]],
    );
    assert.throws(
      () => renderInstanceConfig(topology.instances[2] as ResolvedInstance, topology, cluster),
      ServerConfigError,
    );
    assert.deepEqual(
      findTopologyConfigProblems(topology, { ...cluster, version: '6.0.20' })[0]?.problems.length,
      1,
    );
  });
});
