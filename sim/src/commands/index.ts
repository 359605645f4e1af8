// Registers every core command on a node's registry. Replica-set and sharding commands are
// registered by their roles (see replication.ts).
import { registerAdminCommands } from './admin.js';
import { registerAggregateCommands } from './aggregate.js';
import { registerBasicCommands } from './basic.js';
import { registerCollectionCommands } from './collections.js';
import { registerCrudCommands } from './crud.js';
import { registerExplainCommand } from './explain.js';
import { registerFcvCommands } from './fcv.js';
import { registerHelloCommands } from './hello.js';
import { registerListCommands } from './list-commands.js';
import type { CommandRegistry } from './registry.js';
import { registerViewCommands } from './views.js';

export function registerCoreCommands(registry: CommandRegistry): void {
  registerHelloCommands(registry);
  registerBasicCommands(registry);
  registerCrudCommands(registry);
  registerCollectionCommands(registry);
  registerViewCommands(registry);
  registerAggregateCommands(registry);
  registerFcvCommands(registry);
  registerAdminCommands(registry);
  registerExplainCommand(registry);
  registerListCommands(registry);
}
