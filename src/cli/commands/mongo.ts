// `mup mongo list|install|remove`: the binary cache. Wiring only; the work is in
// src/binaries, loaded lazily.
//
// --json documents (stdout), schemaVersion 1:
//   list:            { schemaVersion, installed: [Package] }
//   list --remote:   { schemaVersion, variant, source, arch, versions: [{ version, production, targets[], bestTarget }] }
//   install:         { schemaVersion, requested, alreadyInstalled, downloadedBytes, ...Package }
//   remove:          { schemaVersion, removed: [Package] }
// Package = { name, variant, version, target, arch, dir, binDir, sha256, url, installedAt }
// Progress events go to stderr as JSON lines ({ event, ... }).
import { type Command, Option } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../ui/output.js';
import { renderTable } from '../../ui/table.js';
import { commandContext } from '../context.js';
import { binaryContext, mirrorOption, variantOption } from '../options.js';

export function registerBinaryCommands(program: Command<[], Record<string, unknown>>): void {
  const mongo = program.command('mongo').description('manage MongoDB binaries in the local cache');

  mongo
    .command('list')
    .description('installed versions, or with --remote the versions available for download')
    .option('--remote', 'list the versions in the release list instead of the cache', false)
    .option('--all', 'with --remote: include release candidates and development releases', false)
    .option('--arch <arch>', 'with --remote: architecture to show targets for (x86_64, arm64)')
    .option('--refresh', 'with --remote: fetch the release list even if the cached copy is fresh', false)
    .addOption(variantOption())
    .addOption(mirrorOption())
    .action(async (options, command) => {
      const context = commandContext(command);
      const binaries = await import('../../binaries/index.js');
      if (options.remote) {
        const ctx = await binaryContext(context, options);
        const listing = await binaries.listRemoteVersions(ctx, {
          arch: options.arch,
          includeDevelopment: options.all,
        });
        if (context.json) return writeJson({ schemaVersion: 1, ...listing });
        if (listing.versions.length === 0) return writeResult(`no versions listed by ${listing.source}`);
        return writeResult(
          renderTable(
            ['Version', 'Production', `Best target (${listing.arch})`, 'Targets'],
            listing.versions.map((v) => [
              v.version,
              v.production ? 'yes' : 'no',
              v.bestTarget ?? '-',
              v.targets.join(','),
            ]),
          ),
        );
      }
      const installed = await binaries.listPackages(context.home);
      if (context.json) return writeJson({ schemaVersion: 1, installed });
      if (installed.length === 0) return writeResult('no MongoDB binaries installed');
      writeResult(
        renderTable(
          ['Variant', 'Version', 'Target', 'Arch', 'Directory'],
          installed.map((p) => [p.variant, p.version, p.target, p.arch, p.dir]),
        ),
      );
    });

  mongo
    .command('install')
    .description('download, verify (sha256) and cache a version: 8.0 means the newest 8.0.x')
    .argument('<version>', 'series (8.0), exact version (7.0.14; Percona: 7.0.14-8) or latest')
    .addOption(variantOption())
    .option(
      '--target <target>',
      'archive target to use instead of the detected one (e.g. ubuntu2204, rhel80)',
    )
    .option('--arch <arch>', 'architecture to install for (x86_64, arm64); default: this machine')
    .option('--dev', 'allow release candidates and development releases for series', false)
    .addOption(mirrorOption())
    .action(async (version, options, command) => {
      const context = commandContext(command);
      const binaries = await import('../../binaries/index.js');
      const ctx = { ...(await binaryContext(context, options)), includeDevelopment: options.dev };
      const result = await binaries.installRelease(ctx, version, {
        target: options.target,
        arch: options.arch,
      });
      if (context.json) return writeJson({ schemaVersion: 1, ...result });
      writeResult(
        result.alreadyInstalled
          ? `${result.variant} ${result.version} (${result.target}, ${result.arch}) is already installed: ${result.binDir}`
          : `installed ${result.variant} ${result.version} (${result.target}, ${result.arch}): ${result.binDir}`,
      );
    });

  mongo
    .command('remove')
    .description('delete a cached version (every target, unless --target is given)')
    .argument('<version>', 'exact version, as shown by `mup mongo list`')
    .addOption(
      new Option('--variant <variant>', 'only this variant').choices(['mongodb', 'percona'] as const),
    )
    .option('--target <target>', 'only this target')
    .option('--force', 'remove it even while clusters of this home use it', false)
    .action(async (version, options, command) => {
      const context = commandContext(command);
      const [binaries, { clustersUsingPackages }] = await Promise.all([
        import('../../binaries/index.js'),
        import('../../ops/binaries.js'),
      ]);
      const removed = await binaries.removePackages(context.home, {
        version,
        variant: options.variant,
        target: options.target,
        force: options.force,
        clustersUsing: await clustersUsingPackages(context.home),
      });
      if (context.json) return writeJson({ schemaVersion: 1, removed });
      writeResult(removed.map((p) => `removed ${p.name} (${p.dir})`).join('\n'));
    });
}
