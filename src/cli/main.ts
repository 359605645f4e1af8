#!/usr/bin/env node
// Entry point of the `mup` command: builds the command tree and maps errors to exit codes.
// Each command module registers itself here and loads its heavy dependencies lazily inside its action,
// so `mup --help` and `mup --version` stay fast.
import { Command, CommanderError } from '@commander-js/extra-typings';
import { ExitCode, MupError } from '../errors.js';
import { closeHosts } from '../hosts/connect.js';
import { writeError } from '../ui/output.js';
import { registerClusterCommands } from './commands/cluster/index.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerMirrorCommand } from './commands/mirror.js';
import { registerBinaryCommands } from './commands/mongo.js';
import { registerPlaygroundCommands } from './commands/playground.js';
import { registerTemplateCommand } from './commands/template.js';
import { registerTopologyCommands } from './commands/topology.js';
import { integerOption } from './options.js';
import { packageVersion } from './version.js';

export type GlobalOptions = {
  json: boolean;
  debug: boolean;
  yes: boolean;
  home?: string | undefined;
  concurrency: number;
  identityFile?: string | undefined;
  acceptNewHostKeys: boolean;
};

export function buildProgram(): Command<[], GlobalOptions> {
  const program = new Command()
    .name('mup')
    .description('Deploy and operate MongoDB clusters, supervised by supervisord.')
    // `--version` is handled in main(): commands such as `cluster deploy --version 8.0` need the name.
    .addHelpText('after', '\nRun `mup --version` (or -v) to print the mup version.')
    .option('--json', 'print one JSON document on stdout; progress goes to stderr', false)
    .option('--debug', 'show stack traces and debug output', false)
    .option('-y, --yes', 'do not ask for confirmation', false)
    .option('--home <dir>', 'mup home directory (default $MUP_HOME, else ~/.mup)')
    .option(
      '--concurrency <n>',
      'steps at once per host; replica sets at once when rolling',
      integerOption(1, 256),
      5,
    )
    .option('-i, --identity-file <file>', 'SSH private key for remote hosts (after ssh-agent)')
    .option(
      '--accept-new-host-keys',
      'trust remote hosts whose SSH key is not known yet (recorded in $MUP_HOME/known_hosts)',
      false,
    )
    .showHelpAfterError('(run with --help for usage)')
    // Subcommands inherit this: their help lists --json, --yes, --home, ... which they all accept.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerPlaygroundCommands(program);
  registerClusterCommands(program);
  registerTopologyCommands(program);
  registerTemplateCommand(program);
  registerBinaryCommands(program);
  registerMirrorCommand(program);
  registerCompletionCommand(program);
  return program as Command<[], GlobalOptions>;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const program = buildProgram();
  const early = await checkCommandPath(program, args);
  if (early !== undefined) return early;
  if (args[0] === '__complete') {
    // Asked by the completion scripts on every TAB: candidates one per line, never an error.
    const { completeWords } = await import('./completion.js');
    const words = await completeWords(args.slice(1), program as never).catch(() => []);
    if (words.length > 0) process.stdout.write(`${words.join('\n')}\n`);
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv as string[]);
    await closeHosts();
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (error) {
    await closeHosts().catch(() => undefined);
    // A usage error may come before commander read --json: the raw arguments say it too.
    const options = program.opts();
    return reportError(error, {
      ...options,
      json: options.json === true || args.includes('--json'),
      debug: options.debug === true || args.includes('--debug'),
    });
  }
}

/**
 * Before commander parses: a bare command group (`mup`, `mup cluster`) prints its help on stdout and exits 0,
 * and a verb that is planned but not in this build says so (exit 2) instead of "unknown command".
 */
async function checkCommandPath(
  program: Command<[], GlobalOptions>,
  args: readonly string[],
): Promise<number | undefined> {
  if (args[0] === '__complete') return undefined;
  const { walkCommandPath, plannedVerbMessage } = await import('./commands-info.js');
  const walk = walkCommandPath(program as never, args);
  if (walk.kind === 'group') {
    walk.command.outputHelp();
    return ExitCode.ok;
  }
  if (walk.kind === 'unknown') {
    const planned = plannedVerbMessage(walk.path, walk.word, program as never);
    if (planned !== undefined) {
      const options = program.opts();
      return reportError(planned, {
        json: args.includes('--json'),
        debug: options.debug === true || args.includes('--debug'),
      });
    }
  }
  return undefined;
}

function reportError(error: unknown, options: Partial<GlobalOptions>): number {
  const output = { json: options.json ?? false, debug: options.debug ?? false };
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed what they had to.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
    if (error.code === 'commander.help') return ExitCode.ok;
    // commander printed the message and the hint on stderr already; a script reading --json gets it too.
    if (output.json)
      writeError(
        {
          code: error.code
            .replace(/^commander\./, '')
            .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
            .toLowerCase(),
          message: error.message.replace(/^error: /, ''),
          hint: 'run with --help for usage',
          exitCode: ExitCode.usage,
        },
        output,
      );
    return ExitCode.usage;
  }
  if (error instanceof MupError) {
    writeError(
      {
        code: error.errorCode,
        message: error.message,
        hint: error.hint,
        exitCode: error.exitCode,
        stack: error.stack,
      },
      output,
    );
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  writeError(
    {
      code: 'internal',
      message: err.message,
      stack: err.stack,
      hint: output.debug ? undefined : 'run with --debug for details',
      exitCode: ExitCode.failed,
    },
    output,
  );
  return ExitCode.failed;
}

process.exitCode = await main(process.argv);
