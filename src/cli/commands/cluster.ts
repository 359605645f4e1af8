// `mup cluster ...`: wiring only. Each action loads its operation module lazily.

import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import { createDownloadRenderer } from '../../ui/download-progress.js';
import { writeJson, writeNotice, writeResult } from '../../ui/output.js';
import { renderTable } from '../../ui/table.js';
import { commandContext } from '../context.js';
import { operationOptions } from '../operation.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError('expected a port number 1-65535');
  return port;
}

export function registerClusterCommands(program: Command<[], Record<string, unknown>>): void {
  const cluster = program.command('cluster').description('deploy and operate clusters');

  cluster
    .command('deploy')
    .description('deploy a cluster from a topology file; it is running at the end')
    .argument('<name>', 'cluster name')
    .argument('<topology>', 'topology YAML file')
    .option(
      '--version <version>',
      'MongoDB version: a series like 8.0 (newest patch) or exact like 7.0.14 (with --binary-path: checked, else read from the binaries)',
    )
    .addOption(
      new Option('--variant <variant>', 'server distribution')
        .choices(['mongodb', 'percona'] as const)
        .default('mongodb' as const),
    )
    .option('--binary-path <dir>', 'use mongod/mongos from this directory instead of downloading')
    .option('--mirror <url-or-dir>', 'release mirror (default $MUP_MIRROR)')
    .option('--dry-run', 'print the plan and change nothing', false)
    .option('--port-base <port>', 'first port tried for `port: 0` entries (default 30000)', parsePort)
    .action(async (name, topologyFile, options, command) => {
      if (options.version === undefined && options.binaryPath === undefined)
        throw new UsageError(
          "required option '--version <version>' not specified",
          'pass --version (e.g. 8.0), or --binary-path to use the version of those binaries',
        );
      const context = commandContext(command);
      const [{ deployCluster }, { readTopologyFile }, opOptions] = await Promise.all([
        import('../../ops/deploy.js'),
        import('../../topology/load.js'),
        operationOptions(context),
      ]);
      const result = await deployCluster(
        {
          name,
          topologyText: await readTopologyFile(topologyFile),
          topologyFile,
          version: options.version,
          variant: options.variant,
          binaryPath: options.binaryPath,
          mirror: options.mirror,
          dryRun: options.dryRun,
          onBinaryEvent: createDownloadRenderer({ json: context.json }),
          ...(options.portBase === undefined ? {} : { portBase: options.portBase }),
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

  const selectionOptions = <T extends Command<[string], Record<string, unknown>>>(command: T) =>
    command
      .option(
        '-R, --role <roles...>',
        'only processes of these roles (mongod, config, mongos); comma-separated',
      )
      .option('-N, --node <nodes...>', 'only these processes (host:port or program name); comma-separated');

  const lifecycleVerbs = [
    ['start', 'start the cluster (config servers, shards, mongos) and wait until healthy', 'Started'],
    ['stop', 'stop the cluster cleanly in reverse order; data is kept', 'Stopped'],
    [
      'restart',
      'rolling restart: secondaries first, then the stepped-down primary; config servers, shards, mongos',
      'Restarted',
    ],
  ] as const;
  for (const [verb, description, done] of lifecycleVerbs) {
    const command = cluster.command(verb).description(description).argument('<name>', 'cluster name');
    if (verb === 'restart')
      command.option('--parallel', 'stop everything, then start everything (not rolling)', false);
    selectionOptions(command).action(async (name, options, action) => {
      const context = commandContext(action);
      const [lifecycle, { splitList }, opOptions] = await Promise.all([
        import('../../ops/lifecycle.js'),
        import('../../ops/selection.js'),
        operationOptions(context),
      ]);
      const flags = options as { role?: string[]; node?: string[]; parallel?: boolean };
      const selection = { roles: splitList(flags.role), nodes: splitList(flags.node) };
      const result =
        verb === 'start'
          ? await lifecycle.startCluster(name, selection, opOptions)
          : verb === 'stop'
            ? await lifecycle.stopCluster(name, selection, opOptions)
            : await lifecycle.restartCluster(name, selection, flags.parallel === true, opOptions);
      if (context.json) return writeJson(result);
      writeNotice(`${done} ${name}.`);
    });
  }

  cluster
    .command('resume')
    .description('continue the interrupted operation of a cluster from its first step not done')
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const [{ resumeCluster }, opOptions] = await Promise.all([
        import('../../ops/lifecycle.js'),
        operationOptions(context),
      ]);
      const result = await resumeCluster(name, opOptions);
      if (context.json) return writeJson(result);
      writeNotice(`Resumed ${result.operation} of ${name}: done.`);
    });

  cluster
    .command('display')
    .description('show every process with its status, pid, uptime and restarts')
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const [{ displayCluster }, { renderDisplay }] = await Promise.all([
        import('../../ops/display.js'),
        import('./display-view.js'),
      ]);
      const view = await displayCluster(context.home, name);
      if (context.json) return writeJson(view);
      writeResult(renderDisplay(view));
    });

  cluster
    .command('connect')
    .description(
      'open a MongoDB shell on the cluster (mongos for sharded clusters, the replica set otherwise)',
    )
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const { connectShell } = await import('../../ops/connect.js');
      process.exitCode = await connectShell(context.home, name);
    });

  cluster
    .command('destroy')
    .description('stop the cluster and remove everything it has on its hosts, then forget it')
    .argument('<name>', 'cluster name')
    .option('--keep-data', 'keep the data directories', false)
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ destroyCluster }, opOptions, { confirmTyped }] = await Promise.all([
        import('../../ops/destroy.js'),
        operationOptions(context),
        import('../../ui/prompt.js'),
      ]);
      const result = await destroyCluster(name, options.keepData, {
        ...opOptions,
        confirmDestroy: (cluster) =>
          confirmTyped(
            `This stops ${cluster} and deletes its files${options.keepData ? ' (data kept)' : ', data included'}.`,
            cluster,
            context.yes,
          ),
      });
      if (context.json) return writeJson(result);
      writeNotice(
        `Destroyed ${name}.${result.keptData.length > 0 ? ` Data kept in ${result.keptData.join(', ')}` : ''}`,
      );
    });

  const supervisor = cluster
    .command('supervisor')
    .description("the cluster's supervisord daemons and programs");

  supervisor
    .command('status')
    .description('supervisord state per host and every program: state, pid, uptime, exit status, restarts')
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const { supervisorStatus } = await import('../../ops/supervisor.js');
      const status = await supervisorStatus(context.home, name);
      if (context.json) return writeJson(status);
      const { formatUptime } = await import('../../ops/display.js');
      const blocks = status.hosts.map((h) =>
        [
          `${h.host}  supervisord ${h.state}${h.pid ? ` (pid ${h.pid})` : ''}  ${h.endpoint}`,
          renderTable(
            ['Program', 'State', 'Pid', 'Uptime', 'Exit status', 'Restarts', 'Description'],
            h.programs.map((p) => [
              p.name,
              p.state,
              p.pid || '-',
              p.pid ? formatUptime(p.uptimeSeconds) : '-',
              p.exitStatus,
              p.restarts,
              p.description,
            ]),
          ),
        ].join('\n'),
      );
      writeResult(blocks.join('\n\n'));
    });

  supervisor
    .command('reload')
    .description('re-render supervisor.ini and apply it; unchanged programs are never restarted')
    .argument('<name>', 'cluster name')
    .action(async (name, _options, command) => {
      const context = commandContext(command);
      const [{ supervisorReload }, opOptions] = await Promise.all([
        import('../../ops/supervisor.js'),
        operationOptions(context),
      ]);
      const result = await supervisorReload(name, opOptions);
      if (context.json) return writeJson(result);
      for (const h of result.hosts) {
        writeNotice(
          `${h.host}: added ${h.added.join(', ') || '-'}; changed ${h.changed.join(', ') || '-'}; removed ${h.removed.join(', ') || '-'}`,
        );
        if (h.daemonSettingsChanged)
          writeNotice(
            `${h.host}: supervisord's own settings changed; they apply at its next restart (cluster stop/start)`,
          );
      }
    });

  supervisor
    .command('logs')
    .description("supervisord's log, or one program's captured output")
    .argument('<name>', 'cluster name')
    .argument('[program]', 'program name, e.g. mongod-30001')
    .option('--lines <n>', 'how many lines', (v) => Number.parseInt(v, 10), 100)
    .option('-f, --follow', 'keep printing new output until interrupted', false)
    .action(async (name, program, options, command) => {
      const context = commandContext(command);
      const { supervisorLogs } = await import('../../ops/supervisor.js');
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      for await (const chunk of supervisorLogs(context.home, name, {
        program,
        lines: options.lines,
        follow: options.follow,
        signal: abort.signal,
      })) {
        process.stdout.write(chunk);
      }
    });

  for (const action of ['start', 'stop', 'restart'] as const) {
    supervisor
      .command(action)
      .description(`${action} one program by its supervisor name`)
      .argument('<name>', 'cluster name')
      .argument('<program>', 'program name, e.g. mongod-30001')
      .action(async (name, program, _options, command) => {
        const context = commandContext(command);
        const [{ supervisorProgramAction }, opOptions] = await Promise.all([
          import('../../ops/supervisor.js'),
          operationOptions(context),
        ]);
        const result = await supervisorProgramAction(name, action, program, opOptions);
        if (context.json) return writeJson(result);
        writeNotice(`${action}: ${result.program} done.`);
      });
  }

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
