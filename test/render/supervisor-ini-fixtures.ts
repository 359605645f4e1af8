// Resolved instances used by the supervisor.ini tests, shaped as resolveTopology produces them.
import { join } from 'node:path';
import type { ResolvedInstance, Role } from '../../src/topology/types.js';

export function instance(
  role: Role,
  port: number,
  deployRoot: string,
  replicaSet?: string,
): ResolvedInstance {
  const programName = `${role}-${port}`;
  const deployDir = join(deployRoot, programName);
  const logDir = join(deployDir, 'log');
  const configDir = join(deployDir, 'conf');
  return {
    id: `localhost:${port}`,
    role,
    host: 'localhost',
    port,
    portAllocated: false,
    local: true,
    ...(replicaSet === undefined
      ? {}
      : {
          replicaSet,
          member: {
            priority: 1,
            votes: 1,
            hidden: false,
            arbiterOnly: false,
            secondaryDelaySecs: 0,
            buildIndexes: true,
            tags: {},
          },
        }),
    programName,
    deployDir,
    ...(role === 'mongos' ? {} : { dataDir: join(deployDir, 'data') }),
    logDir,
    configDir,
    configFile: join(configDir, `${role}.conf`),
    logFile: join(logDir, `${role}.log`),
    outputFile: join(logDir, `${programName}.out`),
    pidFile: join(deployDir, `${role}.pid`),
    binDir: join(deployDir, 'bin'),
    serverConfig: {},
  };
}

/** A small sharded layout: one config server, a 2-member shard, one mongos. */
export function shardedInstances(deployRoot: string): ResolvedInstance[] {
  return [
    instance('config', 30000, deployRoot, 'cfg'),
    instance('mongod', 30001, deployRoot, 'shard1'),
    instance('mongod', 30002, deployRoot, 'shard1'),
    instance('mongos', 30010, deployRoot),
  ];
}
