// Authentication and authorization: SCRAM users, built-in roles, the per-command access check.
import type { CommandRegistry } from '../commands/registry.js';
import type { AccessControl } from './access.js';
import { registerSaslCommands } from './sasl.js';
import { registerUserCommands } from './user-commands.js';

export { AccessControl } from './access.js';
export { helloAuthFields } from './sasl.js';
export { AuthSession } from './session.js';

export function registerAuthCommands(registry: CommandRegistry, access: AccessControl): void {
  registerSaslCommands(registry, access);
  registerUserCommands(registry, access);
}
