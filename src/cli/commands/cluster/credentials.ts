// `mup cluster credentials NAME [--uri]`: wiring only (ops/credentials.ts).
import type { Command } from '@commander-js/extra-typings';
import { operationOptions } from '../../action.js';
import { commandContext } from '../../context.js';

export function registerCredentials(cluster: Command): void {
  cluster
    .command('credentials')
    .description('print the admin user and password of a cluster with auth (recorded in the audit log)')
    .argument('<name>', 'cluster name')
    .option('--uri', 'print a connection string with the user and password instead')
    .action(async (name, options, command) => {
      const context = commandContext(command);
      const [{ applyOperation }, { credentialsOperation }, { writeJson, writeResult }, opOptions] =
        await Promise.all([
          import('../../../ops/operation.js'),
          import('../../../ops/credentials.js'),
          import('../../../ui/output.js'),
          operationOptions(context),
        ]);
      // No task list: the answer is two lines, the step's progress would only hide them.
      const { progress: _progress, ...quiet } = opOptions;
      const outcome = await applyOperation(credentialsOperation, name, { uri: options.uri === true }, quiet);
      if (context.json) return writeJson(outcome);
      const shown = outcome.credentials as {
        user: string;
        password: string;
        authSource: string;
        uri: string;
      };
      if (options.uri) return writeResult(shown.uri);
      writeResult(`user: ${shown.user}\npassword: ${shown.password}\nauth source: ${shown.authSource}`);
    });
}
