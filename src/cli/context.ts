// What every command action needs: the global flags and mup's home, resolved once.
import type { Command } from '@commander-js/extra-typings';
import { resolveMupHome } from '../meta/home.js';

export interface CommandContext {
  json: boolean;
  debug: boolean;
  yes: boolean;
  home: string;
  /** Parallel host/process operations within a phase (--concurrency, default 5). */
  concurrency: number;
}

interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  yes?: boolean;
  home?: string;
  concurrency?: number;
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
    concurrency: flags.concurrency ?? 5,
  };
}
