// listCommands: every command this process answers (per program, test commands only when enabled), sorted
// by name, each with the fields mongod reports: help, requiresAuth, secondaryOk (slaveOk before 4.4.2),
// adminOnly, and from 5.0 the Stable API versions (none of the simulator's commands claims one).
// Source: MongoDB manual "listCommands".
import type { Document } from 'bson';
import { atLeast } from '../version.js';
import type { CommandContext, CommandRegistry } from './registry.js';

/** Commands a secondary serves without a primary read preference being required of the client. */
const SECONDARY_OK = new Set([
  'aggregate',
  'buildInfo',
  'buildinfo',
  'collStats',
  'connectionStatus',
  'count',
  'currentOp',
  'dbHash',
  'dbStats',
  'dbstats',
  'distinct',
  'endSessions',
  'explain',
  'find',
  'getCmdLineOpts',
  'getLog',
  'getMore',
  'getParameter',
  'hello',
  'hostInfo',
  'isMaster',
  'ismaster',
  'killCursors',
  'killOp',
  'listCollections',
  'listCommands',
  'listDatabases',
  'listIndexes',
  'ping',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetHeartbeat',
  'replSetResizeOplog',
  'serverStatus',
  'top',
  'validate',
  'whatsmyuri',
]);

function listCommands(ctx: CommandContext): Document {
  const node = ctx.node;
  const newNames = atLeast(node.version, 4, 4);
  const commands: Document = {};
  const visible = node.commands
    .entries()
    .filter(
      ([, spec]) =>
        (spec.program === undefined || spec.program === node.program) &&
        (!spec.testOnly || node.testCommandsEnabled),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, spec] of visible) {
    const entry: Document = { help: 'no help defined', requiresAuth: true };
    entry[newNames ? 'secondaryOk' : 'slaveOk'] = SECONDARY_OK.has(name);
    entry.adminOnly = spec.adminOnly === true;
    if (atLeast(node.version, 5, 0)) {
      entry.apiVersions = [];
      entry.deprecatedApiVersions = [];
    }
    commands[name] = entry;
  }
  return { commands };
}

export function registerListCommands(registry: CommandRegistry): void {
  registry.register({ names: ['listCommands'], handler: listCommands });
}
