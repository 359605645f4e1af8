// `mup template [--kind standalone|replset|sharded] [--full]`: prints an example topology that validates.

import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { TEMPLATE_KINDS, topologyTemplate } from '../../topology/templates.js';
import { writeJson, writeResult } from '../../ui/output.js';
import { commandContext } from '../context.js';

export function registerTemplateCommand(program: Command<[], Record<string, unknown>>): void {
  program
    .command('template')
    .description('print an example topology file')
    .addOption(
      new Option('--kind <kind>', 'kind of cluster').choices(TEMPLATE_KINDS).default('replset' as const),
    )
    .option('--full', 'show every option, on remote hosts', false)
    .option(
      '--name <cluster>',
      'the cluster it is for: its deploy_dir is mongo-deploy/<cluster>, apart from other clusters',
      'my-cluster',
    )
    .action(async (options, command) => {
      const { checkClusterName } = await import('../../meta/store.js');
      checkClusterName(options.name);
      const text = topologyTemplate(options.kind, { full: options.full, name: options.name });
      if (commandContext(command).json)
        writeJson({ schemaVersion: 1, kind: options.kind, full: options.full, text });
      else writeResult(text);
    });
}
