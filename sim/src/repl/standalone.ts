// Replica-set commands on a mongod started without --replSet: 76 NoReplicationEnabled (reference
// §3.3 step 1, §3.4, §3.5), instead of CommandNotFound.

import { CommandError } from '../errors.js';
import type { SimNode } from '../node.js';
import { ReplCode } from './errors.js';

const NAMES = [
  'replSetGetStatus',
  'replSetGetConfig',
  'replSetReconfig',
  'replSetStepDown',
  'replSetFreeze',
  'replSetMaintenance',
  'replSetSyncFrom',
  'replSetHeartbeat',
  'replSetRequestVotes',
  'replSetUpdatePosition',
  'replSetStepUp',
];

export function registerStandaloneReplCommands(node: SimNode): void {
  const v = node.version;
  const modern = v.major > 4 || (v.major === 4 && v.minor >= 0);
  node.commands.register({
    names: ['replSetInitiate'],
    adminOnly: true,
    program: 'mongod',
    handler: () => {
      throw new CommandError(
        ReplCode.NoReplicationEnabled,
        modern
          ? 'This node was not started with replication enabled.'
          : 'server is not running with --replSet',
      );
    },
  });
  node.commands.register({
    names: NAMES,
    adminOnly: true,
    program: 'mongod',
    handler: () => {
      throw new CommandError(ReplCode.NoReplicationEnabled, 'not running with --replSet');
    },
  });
}
