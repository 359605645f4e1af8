// `mup completion bash|zsh|fish`: prints the shell's completion script (cli/completion.ts).
import { Argument, type Command } from '@commander-js/extra-typings';
import { writeResult } from '../../ui/output.js';

export function registerCompletionCommand(program: Command<[], Record<string, unknown>>): void {
  program
    .command('completion')
    .description('print the shell completion script: commands, options, cluster names, -N processes')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .addHelpText(
      'after',
      '\nbash: source <(mup completion bash)   zsh: source <(mup completion zsh)   fish: mup completion fish | source',
    )
    .action(async (shell) => {
      const { completionScript } = await import('../completion.js');
      writeResult(completionScript(shell));
    });
}
