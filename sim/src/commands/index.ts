// Registers every core command on a node's registry. Replica-set and sharding commands are
// registered by their roles (see replication.ts).
import { registerBasicCommands } from './basic.js';
import { registerHelloCommands } from './hello.js';
import type { CommandRegistry } from './registry.js';

export function registerCoreCommands(registry: CommandRegistry): void {
  registerHelloCommands(registry);
  registerBasicCommands(registry);
}
