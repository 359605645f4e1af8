// `mup cluster logs NAME [-N node] [-n lines] [-f] [--supervisor]`: wiring only (ops/logs.ts reads the file,
// ui/views/logs.ts formats MongoDB's JSON log lines).
import { type Command, Option } from '@commander-js/extra-typings';
import { commandContext } from '../../context.js';
import { parsePositiveInt } from '../../options.js';

export function registerLogs(cluster: Command): void {
  cluster
    .command('logs')
    .description("a process's MongoDB log (its systemLog.path), or supervisord's log with --supervisor")
    .argument('<name>', 'cluster name')
    .option('-N, --node <node>', 'the process (host:port or program name); needed when there are several')
    .option('-n, --lines <n>', 'how many lines of the end of the log', parsePositiveInt, 100)
    .option('-f, --follow', 'keep printing new lines until interrupted (Ctrl-C)', false)
    .option('--supervisor', "supervisord's own log of the process's host (read even while it is down)", false)
    .addOption(
      new Option(
        '--format <format>',
        'pretty: one short line per JSON log entry; raw: the file as written (default: pretty on a terminal, raw otherwise and with --json)',
      ).choices(['pretty', 'raw'] as const),
    )
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ clusterLogs }, { formatLogLine }, { colorsFor }, output] = await Promise.all([
        import('../../../ops/logs.js'),
        import('../../../ui/views/logs.js'),
        import('../../../ui/colors.js'),
        import('../../../ui/output.js'),
      ]);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const { source, chunks } = await clusterLogs(context.home, name, {
          node: options.node,
          supervisor: options.supervisor,
          lines: options.lines,
          follow: options.follow,
          signal: abort.signal,
        });
        const tty = Boolean(process.stdout.isTTY);
        const format = options.format ?? (tty && !context.json ? 'pretty' : 'raw');
        const pretty = format === 'pretty' && source.format === 'json';
        const colors = colorsFor(tty);
        if (!context.json)
          output.writeNotice(
            `${source.process === undefined ? 'supervisord log' : `MongoDB log of ${source.process}`}: ${source.path} on ${source.host}`,
          );
        for await (const chunk of chunks) {
          if (!pretty) {
            process.stdout.write(chunk.text);
            continue;
          }
          const lines = chunk.text.split('\n').slice(0, -1);
          process.stdout.write(`${lines.map((line) => formatLogLine(line, colors)).join('\n')}\n`);
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
