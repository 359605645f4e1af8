// `mup cluster exec NAME [-R] [-N] -- CMD`: runs a command on the cluster's hosts (those of the selected
// processes), all at once, and reports each host's exit code and output apart. One argument is a shell
// command line (`sh -c`, so pipes and variables work); several are a program and its literal arguments.
import { UsageError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import { ClusterStore } from '../meta/store.js';
import { type Selection, selectInstances } from './selection.js';

export interface ExecHostResult {
  host: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Why the command could not run there (unreachable host, refused key ...). */
  error?: string;
}

/** JSON shape of `mup cluster exec --json` (schemaVersion 1). */
export interface ExecResult {
  schemaVersion: 1;
  cluster: string;
  command: string[];
  hosts: ExecHostResult[];
}

export async function execOnCluster(
  home: string,
  name: string,
  selection: Selection,
  command: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  if (command.length === 0 || command[0] === '')
    throw new UsageError('no command given', 'write it after --, e.g. mup cluster exec NAME -- uptime');
  const meta = await new ClusterStore(home).read(name);
  const chosen = new Set(selectInstances(meta.topology.instances, selection).map((i) => i.host));
  const hosts = meta.topology.hosts.filter((h) => chosen.has(h.host));
  const [program, ...args] = command.length === 1 ? ['sh', '-c', command[0] as string] : command;
  const results = await Promise.all(
    hosts.map(async (host): Promise<ExecHostResult> => {
      try {
        const run = await executorFor(host).run(program as string, args, {
          timeoutMs: options.timeoutMs ?? 600_000,
        });
        return { host: host.host, ...run };
      } catch (error) {
        return {
          host: host.host,
          exitCode: -1,
          stdout: '',
          stderr: '',
          error: error instanceof Error ? error.message : String(error),
        };
      }
    }),
  );
  return { schemaVersion: 1, cluster: name, command: [...command], hosts: results };
}

/** The text view: one block per host, its exit code in the heading. */
export function renderExec(result: ExecResult): string {
  return result.hosts
    .map((h) => {
      const status = h.error !== undefined ? `failed: ${h.error}` : `exit ${h.exitCode}`;
      const body = [h.stdout.trimEnd(), h.stderr.trimEnd()].filter((part) => part !== '').join('\n');
      return `── ${h.host} (${status})${body === '' ? '' : `\n${body}`}`;
    })
    .join('\n\n');
}
