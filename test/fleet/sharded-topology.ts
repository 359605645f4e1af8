// The sharded cluster of the fleet's scale test and bench/fleet30.ts, one process per host (port 27017 on each),
// with a 1 s quiesce for mongod and mongos.
import type { FleetHost } from './fleet.js';

/** Config servers on hosts 1–3, shard s (1-based) on hosts 3s+1..3s+3, mongos on the last three. */
export function fleetShardedTopology(hosts: readonly FleetHost[], shards: number, deployDir: string): string {
  const at = (index: number) => (hosts[index] as FleetHost).address;
  const member = (index: number, set: string) => [
    `  - host: ${at(index)}`,
    '    port: 27017',
    `    replica_set: ${set}`,
  ];
  return [
    'global:',
    '  user: deploy',
    `  deploy_dir: ${deployDir}`,
    // A short quiesce (15 s by default from 5.0) keeps the rolling restart's wall time about mup, not sleep.
    'server_configs:',
    '  mongod: { setParameter: { shutdownTimeoutMillisForSignaledShutdown: 1000 } }',
    '  mongos: { setParameter: { mongosShutdownTimeoutMillisForSignaledShutdown: 1000 } }',
    'config_servers:',
    ...[0, 1, 2].flatMap((i) => member(i, 'configRS')),
    'mongod_servers:',
    ...Array.from({ length: shards }, (_, s) =>
      [0, 1, 2].flatMap((m) => member(3 + s * 3 + m, `shard${String(s + 1).padStart(2, '0')}`)),
    ).flat(),
    'mongos_servers:',
    ...[0, 1, 2].flatMap((m) => [`  - host: ${at(3 + shards * 3 + m)}`, '    port: 27017']),
    '',
  ].join('\n');
}
