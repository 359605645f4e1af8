// `mup cluster supervisor ...`: wiring only (ops/supervisor-*.ts).
import type { Command } from '@commander-js/extra-typings';
import { writeNotice } from '../../../ui/output.js';
import { operationOptions, printOutcome, viewAction } from '../../action.js';
import { commandContext } from '../../context.js';
import { dryRunOption, parsePositiveInt } from '../../options.js';

export function registerSupervisor(cluster: Command): void {
  const supervisor = cluster
    .command('supervisor')
    .description("the cluster's supervisord daemons and programs");

  supervisor
    .command('status')
    .description('supervisord state per host and every program: state, pid, uptime, exit status, restarts')
    .argument('<name>', 'cluster name')
    .action(
      viewAction(
        async () => (await import('../../../ops/supervisor-status.js')).supervisorStatus,
        async () => (await import('../../../ui/views/supervisor-status.js')).renderSupervisorStatus,
      ),
    );

  supervisor
    .command('reload')
    .description('re-render supervisor.ini and apply it; unchanged programs are never restarted')
    .argument('<name>', 'cluster name')
    .addOption(dryRunOption())
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ applyOperation }, { supervisorReloadOperation }, opOptions] = await Promise.all([
        import('../../../ops/operation.js'),
        import('../../../ops/supervisor-reload.js'),
        operationOptions(context, { dryRun: options.dryRun === true }),
      ]);
      const outcome = await applyOperation(supervisorReloadOperation, name, {}, opOptions);
      if (context.json || outcome.dryRun) return printOutcome(context, outcome, '');
      const hosts =
        (outcome.hosts as
          | {
              host: string;
              added: string[];
              changed: string[];
              removed: string[];
              daemonSettingsChanged: boolean;
            }[]
          | undefined) ?? [];
      for (const h of hosts) {
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
    .option('--lines <n>', 'how many lines of the end of the log or output', parsePositiveInt, 100)
    .option('-f, --follow', 'keep printing new output until interrupted', false)
    .action(async (name, program, options, command) => {
      const context = commandContext(command);
      const { supervisorLogs } = await import('../../../ops/supervisor-logs.js');
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
      .addOption(dryRunOption())
      .action(async (name, program, options, command) => {
        const context = commandContext(command);
        const [{ applyOperation }, { supervisorProgramOperation }, opOptions] = await Promise.all([
          import('../../../ops/operation.js'),
          import('../../../ops/supervisor-program.js'),
          operationOptions(context, { dryRun: options.dryRun === true }),
        ]);
        const outcome = await applyOperation(
          supervisorProgramOperation,
          name,
          { action, program },
          opOptions,
        );
        await printOutcome(context, outcome, `${action}: ${String(outcome.program)} done.`);
      });
  }
}
