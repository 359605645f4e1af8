// `mup cluster exec NAME [-R] [-N] -- CMD`: wiring only (ops/exec.ts). Exits 1 when the command failed or
// could not run on any host.
import type { Command } from '@commander-js/extra-typings';
import { ExitCode } from '../../../errors.js';
import { writeJson, writeResult } from '../../../ui/output.js';
import { commandContext } from '../../context.js';
import { selectionFrom, withSelection } from '../../options.js';

export function registerExec(cluster: Command): void {
  const command = cluster
    .command('exec')
    .description('run a command on the cluster hosts, output grouped per host (one argument: a shell line)')
    .argument('<name>', 'cluster name')
    .argument('<command...>', 'the command, after --');
  // The command runs once per host: the selection picks the hosts that run the named processes.
  withSelection(command as unknown as Command<[string], Record<string, unknown>>, {
    role: 'only the hosts running processes of these roles (mongod, config, mongos); comma-separated',
    node: 'only the hosts of these processes (host:port or program name); comma-separated',
  });
  command.action(async (name, words, flags, action) => {
    const context = commandContext(action);
    const { execOnCluster, renderExec } = await import('../../../ops/exec.js');
    const selection = await selectionFrom(flags as { role?: string[]; node?: string[] });
    const result = await execOnCluster(context.home, name, selection, words);
    if (context.json) writeJson(result);
    else writeResult(renderExec(result));
    if (result.hosts.some((h) => h.exitCode !== 0)) process.exitCode = ExitCode.failed;
  });
}
