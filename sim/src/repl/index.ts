// Entry point the core loads when mongod runs with --replSet (see sim/src/replication.ts).
import type { SimNode } from '../node.js';
import type { ReplicationRole } from '../replication.js';
import { registerReplCommands } from './commands.js';
import { installElections } from './election.js';
import { OplogFetcher } from './fetcher.js';
import { ReplSetRole } from './role.js';

export function createReplSetRole(node: SimNode): ReplicationRole {
  const role = new ReplSetRole(node);
  installElections(role);
  // The core's commands are registered before the role: find is wrapped for oplog fetches only.
  registerReplCommands(role, node.commands.get('find'));
  const fetcher = new OplogFetcher(role);
  role.onStart = () => fetcher.start();
  role.onStop = () => fetcher.stop();
  return role;
}
