// What every command action needs: the global flags and mup's home, resolved once.
import type { Command } from '@commander-js/extra-typings';
import { resolveMupHome } from '../meta/home.js';

export interface CommandContext {
  json: boolean;
  debug: boolean;
  yes: boolean;
  home: string;
}

interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  yes?: boolean;
  home?: string;
}

/** Reads the global flags wherever they were written on the command line (before or after the subcommand). */
export function commandContext(
  command: Command<unknown[], Record<string, unknown>, Record<string, unknown>>,
): CommandContext {
  const flags = command.optsWithGlobals() as GlobalFlags;
  return {
    json: flags.json ?? false,
    debug: flags.debug ?? false,
    yes: flags.yes ?? false,
    home: resolveMupHome(flags.home),
  };
}
