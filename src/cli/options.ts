// Options and argument parsers shared by several commands, defined once.
import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { BinaryContext, Variant } from '../binaries/index.js';
import { UsageError } from '../errors.js';
import { createDownloadRenderer } from '../ui/download-progress.js';
import type { CommandContext } from './context.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError('expected a port number 1-65535');
  return port;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export const dryRunOption = () => new Option('--dry-run', 'print the plan and change nothing').default(false);

/** -R / -N on lifecycle commands. */
/** -R/-N help for verbs that act on processes; a verb that acts on hosts (exec) says so instead. */
const PROCESS_SELECTION = {
  role: 'only processes of these roles (mongod, config, mongos); comma-separated',
  node: 'only these processes (host:port or program name); comma-separated',
};

export function withSelection<T extends Command<[string], Record<string, unknown>>>(
  command: T,
  help: { role: string; node: string } = PROCESS_SELECTION,
): T {
  command.option('-R, --role <roles...>', help.role).option('-N, --node <nodes...>', help.node);
  return command;
}

/** The selection flags as given: `-N ""` is an error, never "everything". */
export async function selectionFrom(flags: { role?: string[]; node?: string[] }) {
  const { splitList } = await import('../ops/selection.js');
  const roles = splitList(flags.role, '-R/--role');
  const nodes = splitList(flags.node, '-N/--node');
  return { ...(roles ? { roles } : {}), ...(nodes ? { nodes } : {}) };
}

export function requireVersion(version: string | undefined, binaryPath: string | undefined): void {
  if (version === undefined && binaryPath === undefined)
    throw new UsageError(
      "required option '--version <version>' not specified",
      'pass --version (e.g. 8.0), or --binary-path to use the version of those binaries',
    );
}

export const variantOption = () =>
  new Option('--variant <variant>', 'mongodb (Community) or percona (Percona Server for MongoDB)')
    .choices(['mongodb', 'percona'] as const)
    .default('mongodb' as const);

/** The simulator stands in for MongoDB's own binaries, so it excludes every way of naming or fetching them. */
export const simulatorOption = () =>
  new Option(
    '--simulator',
    "run mup's mongod/mongos simulator (not MongoDB): nothing is downloaded",
  ).conflicts(['variant', 'binaryPath', 'mirror', 'target']);

/** What --mirror is wherever binaries are downloaded (commander adds `(env: MUP_MIRROR)` where it reads it). */
export const MIRROR_HELP = 'offline mirror: base URL or directory with full.json and archives';

export const mirrorOption = (help = MIRROR_HELP) =>
  new Option('--mirror <url-or-dir>', help).env('MUP_MIRROR');

/** The binaries context of a command: home, variant, mirror, progress rendering, request timeout. */
export async function binaryContext(
  context: CommandContext,
  options: { variant?: Variant; mirror?: string | undefined; refresh?: boolean },
): Promise<BinaryContext> {
  const { timeoutFromEnv } = await import('../binaries/index.js');
  return {
    home: context.home,
    variant: options.variant ?? 'mongodb',
    mirror: options.mirror,
    timeoutMs: timeoutFromEnv(),
    onEvent: createDownloadRenderer({ json: context.json }),
    refresh: options.refresh ?? false,
  };
}

/**
 * A whole number within [min, max], written in decimal digits only: Number() would take `1e3`, `0x10`,
 * `' 5'` and `''` (as 0), turning a typo into a very different value.
 */
export function integerOption(min: number, max: number, what = 'a whole number'): (value: string) => number {
  return (value: string) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}, written in decimal digits`);
    }
    return n;
  };
}
