// `mup cluster deploy NAME TOPOLOGY`: wiring only (ops/deploy.ts does the work).
import type { Command } from '@commander-js/extra-typings';
import { createDownloadRenderer } from '../../../ui/download-progress.js';
import { writeJson, writeNotice, writeResult, writeWarning } from '../../../ui/output.js';
import { describePlan } from '../../../ui/views/plan.js';
import { operationOptions } from '../../action.js';
import { commandContext } from '../../context.js';
import {
  dryRunOption,
  MIRROR_HELP,
  parsePort,
  requireVersion,
  simulatorOption,
  variantOption,
} from '../../options.js';

export function registerDeploy(cluster: Command): void {
  cluster
    .command('deploy')
    .description('deploy a cluster from a topology file; it is running at the end')
    .argument('<name>', 'cluster name')
    .argument('<topology>', 'topology YAML file')
    .option(
      '--version <version>',
      'MongoDB version: a series like 8.0 (newest patch) or exact like 7.0.14 (with --binary-path: checked, else read from the binaries)',
    )
    .addOption(variantOption())
    .addOption(simulatorOption())
    .option('--binary-path <dir>', 'use mongod/mongos from this directory instead of downloading')
    .option('--mirror <url-or-dir>', `${MIRROR_HELP} (default $MUP_MIRROR)`)
    .option('--target <target>', 'release-list target to download (default: detected for this host)')
    .addOption(dryRunOption())
    .option('--port-base <port>', 'first port tried for `port: 0` entries (default 30000)', parsePort)
    .option(
      '--no-boot-start',
      "do not register the cluster's supervisord with the hosts' init (systemd unit or @reboot crontab entry): after a host reboot its members stay down until `mup cluster start`",
    )
    .option(
      '--allow-root',
      'let mongod and mongos run as root (when mup runs as root without global.user; refused otherwise)',
    )
    .option(
      '--tls',
      'require TLS on every port, with a cluster CA and per-host certificates made by mup (as global.tls: true in the topology)',
    )
    .option(
      '--no-auth',
      'no access control: no keyFile, no admin user (anyone who reaches a port can do anything)',
    )
    .action(async (name, topologyFile, options, command) => {
      if (!options.simulator) requireVersion(options.version, options.binaryPath);
      const context = commandContext(command);
      if (!options.auth)
        writeWarning(
          `--no-auth: cluster ${name} will accept anyone who can reach its ports, without a password`,
        );
      const [{ deployCluster }, { readTopologyFile }, opOptions] = await Promise.all([
        import('../../../ops/deploy.js'),
        import('../../../topology/load.js'),
        operationOptions(context, { dryRun: options.dryRun === true }),
      ]);
      const result = await deployCluster(
        {
          name,
          topologyText: await readTopologyFile(topologyFile),
          topologyFile,
          version: options.version,
          variant: options.simulator ? 'simulator' : options.variant,
          binaryPath: options.binaryPath,
          mirror: options.mirror,
          target: options.target,
          onBinaryEvent: createDownloadRenderer({ json: context.json }),
          allowRoot: options.allowRoot === true,
          auth: options.auth,
          authOptOut: !options.auth,
          tls: options.tls === true,
          ...(options.portBase === undefined ? {} : { portBase: options.portBase }),
          bootStart: options.bootStart,
        },
        opOptions,
      );
      if (context.json) return writeJson(result);
      if (result.dryRun) return writeResult(describePlan(result.plan));
      writeNotice(`Cluster ${name} (${result.kind}, ${result.engine} ${result.version}) is running.`);
      writeResult(result.uri);
    });
}
