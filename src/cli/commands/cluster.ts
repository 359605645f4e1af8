// `mup cluster ...`: wiring only. Each action loads its operation module lazily.
import { type Command, Option } from '@commander-js/extra-typings';
import { writeJson, writeNotice, writeResult } from '../../ui/output.js';
import { renderTable } from '../../ui/table.js';
import { commandContext } from '../context.js';
import { operationOptions } from '../operation.js';

export function registerClusterCommands(program: Command<[], Record<string, unknown>>): void {
  const cluster = program.command('cluster').description('deploy and operate clusters');

  cluster
    .command('deploy')
    .description('deploy a cluster from a topology file; it is running at the end')
    .argument('<name>', 'cluster name')
    .argument('<topology>', 'topology YAML file')
    .requiredOption(
      '--version <version>',
      'MongoDB version: a series like 8.0 (newest patch) or exact like 7.0.14',
    )
    .addOption(
      new Option('--variant <variant>', 'server distribution')
        .choices(['mongodb', 'percona'] as const)
        .default('mongodb' as const),
    )
    .option('--binary-path <dir>', 'use mongod/mongos from this directory instead of downloading')
    .option('--mirror <url-or-dir>', 'release mirror (default $MUP_MIRROR)')
    .option('--dry-run', 'print the plan and change nothing', false)
    .action(async (name, topologyFile, options, command) => {
      const context = commandContext(command);
      const [{ deployCluster, readTopology }, opOptions] = await Promise.all([
        import('../../ops/deploy.js'),
        operationOptions(context),
      ]);
      const result = await deployCluster(
        {
          name,
          topologyText: await readTopology(topologyFile),
          topologyFile,
          version: options.version,
          variant: options.variant,
          binaryPath: options.binaryPath,
          mirror: options.mirror,
          dryRun: options.dryRun,
        },
        opOptions,
      );
      if (context.json) return writeJson(result);
      if (options.dryRun) {
        const { describePlan } = await import('../../ops/apply.js');
        return writeResult(describePlan(result.plan));
      }
      writeNotice(`Cluster ${name} (${result.kind}, MongoDB ${result.version}) is running.`);
      writeResult(result.uri);
    });

  cluster
    .command('list')
    .description('list the clusters mup manages')
    .action(async (_options, command) => {
      const context = commandContext(command);
      const { listClusters } = await import('../../ops/list.js');
      const clusters = await listClusters(context.home);
      if (context.json) return writeJson({ schemaVersion: 1, clusters });
      if (clusters.length === 0) return writeResult('no clusters');
      writeResult(
        renderTable(
          ['Name', 'Status', 'Version', 'Kind', 'Hosts', 'Processes', 'Created'],
          clusters.map((c) => [
            c.name,
            c.status,
            c.version,
            c.kind,
            c.hosts.join(','),
            c.processes,
            c.createdAt,
          ]),
        ),
      );
    });

  cluster
    .command('audit')
    .description('list past operations, or show one with every step and its output')
    .argument('[name]', 'cluster name')
    .argument('[op-id]', 'operation id')
    .action(async (name, opId, _options, command) => {
      const context = commandContext(command);
      const audit = await import('../../ops/audit.js');
      if (name && opId) {
        const op = await audit.showOperation(context.home, name, opId);
        if (context.json)
          return writeJson({
            schemaVersion: 1,
            operation: op.summary,
            args: op.header.args,
            steps: op.steps,
          });
        const lines = [
          `${op.summary.opId}  ${op.summary.operation}  ${op.summary.status}  started ${op.summary.startedAt}`,
        ];
        for (const step of op.steps) {
          lines.push(
            `${step.at}  ${step.state.padEnd(8)} ${step.phase} › ${step.step}${step.error ? `: ${step.error}` : ''}`,
          );
          if (step.output) lines.push(...step.output.split('\n').map((l) => `    ${l}`));
        }
        return writeResult(lines.join('\n'));
      }
      const operations = await audit.listAudit(context.home, name);
      if (context.json) return writeJson({ schemaVersion: 1, operations });
      if (operations.length === 0) return writeResult('no operations');
      writeResult(
        renderTable(
          ['ID', 'Cluster', 'Operation', 'Status', 'Started', 'Ended'],
          operations.map((o) => [o.opId, o.cluster, o.operation, o.status, o.startedAt, o.endedAt ?? '']),
        ),
      );
    });
}
