// Entry point the core loads when mongod runs with --replSet (see sim/src/replication.ts).
import type { CommandSpec } from '../commands/registry.js';
import type { SimNode } from '../node.js';
import type { ReplicationRole } from '../replication.js';
import { registerReplCommands } from './commands.js';
import { installElections } from './election.js';
import { OplogFetcher } from './fetcher.js';
import { ReplSetRole } from './role.js';

export function createReplSetRole(node: SimNode): ReplicationRole {
  const role = new ReplSetRole(node);
  installElections(role);
  const fetcher = new OplogFetcher(role);
  role.onStart = () => {
    // Registered at start so the core's own commands (find among them) are already in the table.
    const registry = node.commands as unknown as { get?: (name: string) => CommandSpec | undefined };
    registerReplCommands(role, registry.get?.('find'));
    fetcher.start();
  };
  role.onStop = () => fetcher.stop();
  return role;
}
