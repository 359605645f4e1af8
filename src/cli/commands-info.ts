// What the command line names before commander parses it: a bare command group (which then prints its help on
// stdout), or an unknown verb — which may be one the product plans but this build does not have yet. Verbs are
// checked against the registered tree at run time, so a planned verb stops being "planned" once it is added.
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';

type AnyCommand = Command<unknown[], Record<string, unknown>, Record<string, unknown>>;

/** `cluster` verbs of the product that a build may not have yet. */
export const PLANNED_CLUSTER_VERBS = [
  'scale-out',
  'scale-in',
  'edit-config',
  'reload',
  'upgrade',
  'credentials',
  'check',
  'exec',
  'import',
  'patch',
] as const;

export type CommandWalk =
  | { kind: 'group'; command: AnyCommand }
  | { kind: 'unknown'; path: string[]; word: string }
  | { kind: 'other' };

/** Global options of `mup` that take a value: their value is not a command word. */
const VALUE_OPTIONS = new Set(['--home', '--concurrency']);

export function walkCommandPath(program: AnyCommand, args: readonly string[]): CommandWalk {
  let command = program;
  const path: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '--help' || word === '-h' || word === '--version' || word === '-v') return { kind: 'other' };
    if (word.startsWith('-')) {
      // An option the path does not know is commander's to report.
      if (!knownOption(command, word)) return { kind: 'other' };
      if (VALUE_OPTIONS.has(word)) i++;
      continue;
    }
    if (command.commands.length === 0) return { kind: 'other' };
    const sub = (command.commands as AnyCommand[]).find(
      (c) => c.name() === word || c.aliases().includes(word),
    );
    if (!sub) return { kind: 'unknown', path, word };
    command = sub;
    path.push(word);
  }
  return command.commands.length > 0 ? { kind: 'group', command } : { kind: 'other' };
}

/** The refusal for a planned verb that is not registered, or undefined (then commander reports it). */
export function plannedVerbMessage(
  path: readonly string[],
  word: string,
  program: AnyCommand,
): UsageError | undefined {
  if (!(PLANNED_CLUSTER_VERBS as readonly string[]).includes(word)) return undefined;
  const cluster = (program.commands as AnyCommand[]).find((c) => c.name() === 'cluster');
  const registered = cluster?.commands.some((c) => c.name() === word) ?? false;
  if (path.length === 0 && registered)
    return new UsageError(`unknown command '${word}'`, `it is a cluster verb: mup cluster ${word} ...`);
  if (registered) return undefined;
  if (path.length === 0 || (path.length === 1 && path[0] === 'cluster'))
    return new UsageError(
      `\`mup cluster ${word}\` is planned but not in this version of mup yet`,
      'see README.md (Status) for what works today',
    );
  return undefined;
}

function knownOption(command: AnyCommand, word: string): boolean {
  const name = word.split('=')[0];
  for (let c: AnyCommand | null = command; c; c = c.parent as AnyCommand | null)
    if (c.options.some((o) => o.long === name || o.short === name)) return true;
  return false;
}
