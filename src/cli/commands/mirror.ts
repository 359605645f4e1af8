// `mup mirror <dir> --version V...`: build (or extend) an offline mirror from the current source (the
// vendor's host, or another mirror given with --mirror / MUP_MIRROR). Wiring only.
//
// --json document (stdout), schemaVersion 1:
//   { schemaVersion, dir, listFile, versions: [string],
//     archives: [{ version, target, arch, path, sha256, bytes, reused }] }   (path relative to dir)
import type { Command } from '@commander-js/extra-typings';
import { writeJson, writeResult } from '../../ui/output.js';
import { commandContext } from '../context.js';
import { binaryContext, mirrorOption, variantOption } from '../options.js';

export function registerMirrorCommand(program: Command<[], Record<string, unknown>>): void {
  program
    .command('mirror')
    .description('make an offline mirror (release list + verified archives) for MUP_MIRROR / --mirror')
    .argument('<dir>', 'directory to write the mirror into (created or extended)')
    .requiredOption('--version <version...>', 'versions to mirror (series like 7.0, or exact)')
    .option('--target <target...>', 'archive targets to copy (default: the one chosen for this machine)')
    .option('--all-targets', 'copy every target of the architecture', false)
    .option('--arch <arch>', 'architecture (x86_64, arm64); default: this machine')
    .addOption(variantOption())
    .addOption(mirrorOption('copy from this mirror (base URL or directory) instead of the vendor’s host'))
    .addHelpText('after', '\nExample: mup mirror ./mirror --version 7.0 8.0.4 --target ubuntu2204 rhel93')
    .action(async (dir, options, command) => {
      const context = commandContext(command);
      const { buildMirror } = await import('../../binaries/index.js');
      const ctx = await binaryContext(context, options);
      const result = await buildMirror(ctx, {
        dir,
        versions: options.version,
        targets: options.target,
        arch: options.arch,
        allTargets: options.allTargets,
      });
      if (context.json) return writeJson({ schemaVersion: 1, ...result });
      const copied = result.archives.filter((a) => !a.reused).length;
      writeResult(
        [
          `mirror ${result.dir}: ${result.versions.join(', ')} (${copied} archive(s) copied, ${result.archives.length - copied} already present)`,
          `use it with: MUP_MIRROR=${result.dir} or --mirror ${result.dir}`,
        ].join('\n'),
      );
    });
}
