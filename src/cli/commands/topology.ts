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
import { writeJson, writeResult } from '../../ui/output.js';
import { commandContext } from '../context.js';
import { parsePort } from '../options.js';

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
    .option(
      '--version <version>',
      'check server options against this MongoDB version (default: the newest supported series)',
    )
    .action(async (file, options, command) => {
      const context = commandContext(command);
      const [{ readTopologyFile }, { validateTopologyFile }] = await Promise.all([
        import('../../topology/load.js'),
        import('../../ops/validate.js'),
      ]);
      const text = file === '-' ? await readStdin() : await readTopologyFile(file);
      const resolved = await validateTopologyFile(text, file === '-' ? '<stdin>' : file, {
        version: options.version,
        portBase: options.portBase,
      });
      if (context.json) {
        writeJson({ schemaVersion: 1, file, ...resolved });
        return;
      }
      const { renderResolved } = await import('../../ui/views/resolved.js');
      writeResult(renderResolved(resolved));
    });
}
