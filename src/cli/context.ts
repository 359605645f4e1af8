// What every command action needs: the global flags and mup's home, resolved once.
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';
import { configureHosts } from '../hosts/connect.js';
import { mupHomeProblem, resolveMupHome } from '../meta/home.js';

export interface CommandContext {
  json: boolean;
  debug: boolean;
  yes: boolean;
  home: string;
  /** Parallel steps per host within a phase, and sets at once in a rolling phase (--concurrency, default 5). */
  concurrency: number;
}

interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  yes?: boolean;
  home?: string;
  concurrency?: number;
  identityFile?: string;
  acceptNewHostKeys?: boolean;
}

/** Reads the global flags wherever they were written on the command line (before or after the subcommand). */
export function commandContext(
  command: Command<unknown[], Record<string, unknown>, Record<string, unknown>>,
): CommandContext {
  const flags = command.optsWithGlobals() as GlobalFlags;
  const home = resolveMupHome(flags.home);
  // `--home ""` is a mistake (an unset variable), never a request for the default home.
  const problem = mupHomeProblem(flags.home === undefined ? home : flags.home);
  if (problem !== undefined) {
    const given = flags.home === undefined ? `$MUP_HOME (${home})` : `--home ${JSON.stringify(flags.home)}`;
    throw new UsageError(`${given} ${problem}`, 'give mup a home dir it can create and own, e.g. ~/.mup');
  }
  // Remote hosts of this command: reached with these keys and trust rules; the connections close when it ends.
  configureHosts({
    mupHome: home,
    ...(flags.identityFile === undefined ? {} : { identityFile: flags.identityFile }),
    acceptNewHostKeys: flags.acceptNewHostKeys ?? false,
  });
  return {
    json: flags.json ?? false,
    debug: flags.debug ?? false,
    yes: flags.yes ?? false,
    home,
    concurrency: flags.concurrency ?? 5,
  };
}
