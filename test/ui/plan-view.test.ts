import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanOutline, PlanTarget } from '../../src/plan/types.js';
import { describePlan } from '../../src/ui/views/plan.js';

const phases: PlanOutline['phases'] = [
  { name: 'start', title: 'Start mongod processes', parallel: true, steps: [{ id: 'a', title: 'start a' }] },
];

test('a plan with a target shows engine, version, ports per replica set and the URI before the steps', () => {
  const target: PlanTarget = {
    kind: 'replset',
    engine: 'MongoDB',
    version: '8.0.4',
    processes: [30000, 30001, 30002].map((port) => ({
      id: `localhost:${port}`,
      role: 'mongod',
      replicaSet: 'rs0',
      host: 'localhost',
      port,
    })),
    uri: 'mongodb://localhost:30000,localhost:30001,localhost:30002/?replicaSet=rs0',
  };
  assert.equal(
    describePlan({ operation: 'deploy', cluster: 'prod', target, phases }),
    [
      'Plan: deploy prod',
      '  Cluster: replset, MongoDB 8.0.4, 3 processes',
      '    replica set rs0: localhost:30000, 30001, 30002',
      '  URI: mongodb://localhost:30000,localhost:30001,localhost:30002/?replicaSet=rs0',
      '  1. Start mongod processes',
      '     - start a',
    ].join('\n'),
  );
});

test('a sharded target groups config servers, shards and mongos; hosts are named once per run of ports', () => {
  const p = (role: string, host: string, port: number, replicaSet?: string) => ({
    id: `${host}:${port}`,
    role,
    host,
    port,
    ...(replicaSet ? { replicaSet } : {}),
  });
  const target: PlanTarget = {
    kind: 'sharded',
    engine: 'MongoDB',
    version: '7.0.14',
    processes: [
      p('config', '10.0.0.1', 27019, 'cfg'),
      p('mongod', '10.0.0.1', 27018, 'shard1'),
      p('mongod', '10.0.0.2', 27018, 'shard1'),
      p('mongos', '::1', 27017),
    ],
    uri: 'mongodb://[::1]:27017/',
  };
  const text = describePlan({ operation: 'deploy', cluster: 's', target, phases });
  assert.match(text, /\n {4}config servers cfg: 10\.0\.0\.1:27019\n/);
  assert.match(text, /\n {4}shard shard1: {7}10\.0\.0\.1:27018, 10\.0\.0\.2:27018\n/);
  assert.match(text, /\n {4}mongos: {13}\[::1\]:27017\n/);
});

test('a long process list wraps within 100 columns and keeps every port', () => {
  const processes = Array.from({ length: 60 }, (_, n) => ({
    id: `host-${n < 30 ? 'a' : 'b'}.example.net:${27000 + n}`,
    role: 'mongod',
    replicaSet: 'rs0',
    host: `host-${n < 30 ? 'a' : 'b'}.example.net`,
    port: 27000 + n,
  }));
  const target: PlanTarget = { kind: 'replset', engine: 'MongoDB', version: '8.0.4', processes, uri: '' };
  const lines = describePlan({ operation: 'deploy', cluster: 'big', target, phases }).split('\n');
  for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  const text = lines.join('\n');
  for (const { port } of processes) assert.match(text, new RegExp(`\\b${port}\\b`));
  assert.equal(text.match(/host-a\.example\.net/g)?.length, 1);
  assert.doesNotMatch(text, /URI:/, 'no URI line without a URI');
});

test('a plan without a target (destroy) shows only its steps', () => {
  assert.equal(
    describePlan({ operation: 'destroy', cluster: 'prod', phases }),
    'Plan: destroy prod\n  1. Start mongod processes\n     - start a',
  );
});
