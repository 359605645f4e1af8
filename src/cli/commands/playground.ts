// `mup playground ...`: wiring only.
import { type Command, Option } from '@commander-js/extra-typings';
import { createDownloadRenderer } from '../../ui/download-progress.js';
import { writeJson, writeNotice, writeResult, writeWarning } from '../../ui/output.js';
import { operationOptions, printOutcome } from '../action.js';
import { commandContext } from '../context.js';
import { MIRROR_HELP, parsePort, parsePositiveInt, simulatorOption, variantOption } from '../options.js';

export function registerPlaygroundCommands(program: Command<[], Record<string, unknown>>): void {
  const playground = program
    .command('playground')
    .description('a local cluster in one command (kept until destroyed)');
  // `start --tag` names a new playground; the other verbs pick one.
  const tagOption = (text = 'which playground: playground-<name> (default: the untagged one)') =>
    new Option('--tag <name>', text);

  playground
    .command('start')
    .description('deploy the playground (or start it again if it exists) and print its connection URI')
    .option('--version <version>', 'MongoDB version (default 8.0, or the version of --binary-path)')
    .addOption(variantOption())
    .addOption(simulatorOption())
    .addOption(
      new Option('--topology <kind>', 'cluster kind')
        .choices(['standalone', 'replset', 'sharded'] as const)
        .default('replset' as const),
    )
    .option('--nodes <n>', 'members per replica set (per shard when sharded)', parsePositiveInt, 3)
    .option('--shards <n>', 'shards (sharded)', parsePositiveInt, 2)
    .option('--config-servers <n>', 'config server replica set members (sharded)', parsePositiveInt, 1)
    .option('--mongos <n>', 'mongos routers (sharded)', parsePositiveInt, 1)
    .option('--arbiter', 'add an arbiter to each replica set', false)
    .option(
      '--auth',
      'access control with a keyFile and an admin user, as `cluster deploy` (see `mup cluster credentials`)',
      false,
    )
    .option(
      '--tls',
      'require TLS on every port, with a CA and certificates made by mup, as `cluster deploy --tls` (see `mup cluster credentials --uri`)',
      false,
    )
    .option('--port <port>', 'first port to allocate from', parsePort, 30000)
    .addOption(tagOption('name it playground-<name>, to run several playgrounds side by side'))
    .option('--binary-path <dir>', 'use mongod/mongos from this directory instead of downloading')
    .option('--mirror <url-or-dir>', `${MIRROR_HELP} (default $MUP_MIRROR)`)
    .option('--target <target>', 'release-list target to download (default: detected for this host)')
    .option('--allow-root', 'run mongod and mongos as root when mup runs as root (refused otherwise)', false)
    .argument(
      '[mongod-options...]',
      'after `--`: mongod options for every member, e.g. -- --wiredTigerCacheSizeGB 1 --setParameter notablescan=true',
    )
    .addHelpText(
      'after',
      '\nOn an existing playground, start starts it as it is; options asking for another shape are refused.\nMembers get 0.5 s of quiesce on shutdown (5.0+), so restarts take seconds; -- --setParameter shutdownTimeoutMillisForSignaledShutdown=N overrides it.',
    )
    .action(async (mongodArgs, options, command) => {
      const context = commandContext(command);
      const [{ startPlayground }, opOptions] = await Promise.all([
        import('../../ops/playground.js'),
        operationOptions(context),
      ]);
      const result = await startPlayground(
        {
          tag: options.tag,
          version: options.version,
          variant: options.simulator ? 'simulator' : options.variant,
          topology: options.topology,
          nodes: options.nodes,
          shards: options.shards,
          configServers: options.configServers,
          mongos: options.mongos,
          arbiter: options.arbiter,
          port: options.port,
          binaryPath: options.binaryPath,
          mirror: options.mirror,
          target: options.target,
          allowRoot: options.allowRoot,
          auth: options.auth,
          tls: options.tls,
          onBinaryEvent: createDownloadRenderer({ json: context.json }),
          mongodArgs,
          given: new Set(
            (
              [
                'topology',
                'version',
                'variant',
                'nodes',
                'shards',
                'configServers',
                'mongos',
                'arbiter',
              ] as const
            ).filter((key) => command.getOptionValueSource(key) === 'cli'),
          ),
        },
        opOptions,
      );
      if (context.json) return writeJson({ schemaVersion: 1, ...result });
      if (result.movedPorts)
        writeWarning(
          `ports ${portList(result.movedPorts.requested)} were not all free: ${result.cluster} uses ${portList(result.movedPorts.used)}`,
        );
      writeNotice(
        `${result.cluster} is running${result.variant === 'simulator' ? ` on the ${result.engine}` : ''}. Connect with: mup playground connect${options.tag ? ` --tag ${options.tag}` : ''}`,
      );
      writeResult(result.uri);
    });

  playground
    .command('status')
    .description('the playground processes (as `mup cluster display`)')
    .addOption(tagOption())
    .action(async (options, command) => {
      const context = commandContext(command);
      const [{ displayCluster }, { playgroundName }] = await Promise.all([
        import('../../ops/display.js'),
        import('../../ops/playground.js'),
      ]);
      const view = await displayCluster(context.home, playgroundName(options.tag));
      if (context.json) return writeJson(view);
      const [{ renderDisplay }, { colorsFor }] = await Promise.all([
        import('../../ui/views/display.js'),
        import('../../ui/colors.js'),
      ]);
      writeResult(renderDisplay(view, { colors: colorsFor(Boolean(process.stdout.isTTY)) }));
    });

  playground
    .command('connect')
    .description('open a MongoDB shell on the playground')
    .addOption(tagOption())
    .action(async (options, command) => {
      const context = commandContext(command);
      const [{ connectShell }, { playgroundName }] = await Promise.all([
        import('../../ops/connect.js'),
        import('../../ops/playground.js'),
      ]);
      process.exitCode = await connectShell(context.home, playgroundName(options.tag));
    });

  playground
    .command('stop')
    .description('stop the playground; its data is kept')
    .addOption(tagOption())
    .action(async (options, command) => {
      const context = commandContext(command);
      const [{ applyOperation }, { stopOperation }, { playgroundName }, opOptions] = await Promise.all([
        import('../../ops/operation.js'),
        import('../../ops/stop.js'),
        import('../../ops/playground.js'),
        operationOptions(context),
      ]);
      const name = playgroundName(options.tag);
      // The playground is the user's own throw-away cluster: stopping it does not ask (deploying it does not).
      const outcome = await applyOperation(
        stopOperation,
        name,
        { selection: {} },
        { ...opOptions, yes: true },
      );
      await printOutcome(context, outcome, `Stopped ${name}.`);
    });

  playground
    .command('destroy')
    .description('stop the playground and delete everything it has')
    .addOption(tagOption())
    .action(async (options, command) => {
      const context = commandContext(command);
      const [{ destroyPlayground, playgroundName }, opOptions, { confirm }] = await Promise.all([
        import('../../ops/playground.js'),
        operationOptions(context),
        import('../../ui/prompt.js'),
      ]);
      const name = playgroundName(options.tag);
      // No typed confirmation for the playground: a yes/no question is enough.
      const result = await destroyPlayground(options.tag, {
        ...opOptions,
        confirmTyped: (cluster) => confirm(`Delete ${cluster} and all its data?`, context.yes),
      });
      if (context.json) return writeJson(result);
      writeNotice(`Destroyed ${name}.`);
    });
}

/** `30000–30002` for a run of ports, else a comma list. */
function portList(ports: readonly number[]): string {
  const first = ports[0];
  const last = ports[ports.length - 1];
  if (first !== undefined && last !== undefined && ports.every((p, i) => p === first + i))
    return ports.length === 1 ? String(first) : `${first}–${last}`;
  return ports.join(', ');
}
