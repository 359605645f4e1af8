// `mup topology validate <file>`: wiring only. Checks a topology file, prints it fully resolved.
//
// JSON output (--json), schemaVersion 1:
//   { "schemaVersion": 1, "file": string, "kind": "standalone" | "replset" | "sharded",
//     "instances": ResolvedInstance[],   // id, role, host, port, portAllocated, local, replicaSet?, member?,
//                                        // programName, deployDir, dataDir?, logDir, configDir, configFile,
//                                        // logFile, outputFile, pidFile, binDir, serverConfig
//     "replicaSets": ResolvedReplicaSet[], // name, purpose, members, initiator, settings
//     "hosts": ResolvedHost[] }          // host, local, user, sshPort, supervisorDir
// (types in src/topology/types.ts). Errors go to stderr, one `file:line:col  path: what (rule)` line each; exit 2.

import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { ResolvedTopology } from '../../topology/types.js';
import { writeJson, writeResult } from '../../ui/output.js';
import { renderTable } from '../../ui/table.js';
import { commandContext } from '../context.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('must be a port number between 1 and 65535');
  }
  return port;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerTopologyCommands(program: Command<[], Record<string, unknown>>): void {
  const topology = program.command('topology').description('check topology files');

  topology
    .command('validate')
    .description('validate a topology file and print it fully resolved (ports, directories, replica sets)')
    .argument('<file>', 'topology YAML file, or - to read it from stdin')
    .option('--port-base <port>', 'first port tried for `port: 0` entries', parsePort, 30000)
    .action(async (file, options, command) => {
      const context = commandContext(command);
      const [{ loadTopology, readTopologyFile }, { LocalExecutor }] = await Promise.all([
        import('../../topology/load.js'),
        import('../../hosts/local.js'),
      ]);
      const text = file === '-' ? await readStdin() : await readTopologyFile(file);
      const probe = new LocalExecutor();
      const { resolved } = await loadTopology(text, file === '-' ? '<stdin>' : file, {
        isPortFree: (port) => probe.isPortFree(port),
        portBase: options.portBase,
      });
      if (context.json) {
        writeJson({ schemaVersion: 1, file, ...resolved });
        return;
      }
      writeResult(renderResolved(resolved));
    });
}

function renderResolved(topology: ResolvedTopology): string {
  const hosts = topology.hosts.length === 1 ? '1 host' : `${topology.hosts.length} hosts`;
  const count = topology.instances.length === 1 ? '1 instance' : `${topology.instances.length} instances`;
  const lines = [`Topology: ${topology.kind}, ${count} on ${hosts}`];
  const sets = topology.replicaSets.map(
    (set) => `${set.name} (${set.purpose}, ${set.members.length} members)`,
  );
  if (sets.length > 0) lines.push(`Replica sets: ${sets.join(', ')}`);
  lines.push('');
  lines.push(
    renderTable(
      ['ID', 'Role', 'Replica set', 'Host', 'Port', 'Data dir', 'Log dir', 'Config file'],
      topology.instances.map((i) => [
        i.id,
        i.role,
        i.replicaSet ?? '-',
        i.host,
        i.portAllocated ? `${i.port} (allocated)` : i.port,
        i.dataDir ?? '-',
        i.logDir,
        i.configFile,
      ]),
    ),
  );
  const supervisor = topology.hosts.map((h) => `${h.host}: ${h.supervisorDir}`);
  lines.push('', `Supervisor dirs: ${supervisor.join(', ')}`);
  return lines.join('\n');
}
