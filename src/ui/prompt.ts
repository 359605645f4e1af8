import { UsageError } from '../errors.js';

/**
 * Asks a yes/no question on the terminal, No preselected: every question mup asks is about something
 * destructive or disruptive, so Enter alone must not do it. Without a TTY there is nobody to answer (and a
 * prompt on a closed stdin never settles), so the caller must pass --yes.
 */
export async function confirm(message: string, assumeYes: boolean): Promise<boolean> {
  if (assumeYes) return true;
  const prompts = await promptsOnTerminal();
  const answer = await prompts.confirm({ message: `${message} [y/N]`, initialValue: false });
  return answer === true;
}

/** Asks the user to type `expected` (destroy's typed confirmation). */
export async function confirmTyped(message: string, expected: string, assumeYes: boolean): Promise<boolean> {
  if (assumeYes) return true;
  const prompts = await promptsOnTerminal();
  const answer = await prompts.text({ message: `${message}\nType '${expected}' to confirm` });
  return answer === expected;
}

/** The prompt library, once it is known that someone can answer (a prompt on a closed stdin never settles). */
async function promptsOnTerminal() {
  requireTerminal();
  return import('@clack/prompts');
}

/** Refuses (exit 2, nothing changed) when a confirmation is needed and nobody can give it. */
export function requireTerminal(): void {
  if (!process.stdin.isTTY)
    throw new UsageError(
      'confirmation needed but stdin is not a terminal',
      'pass --yes to proceed without asking',
    );
}
