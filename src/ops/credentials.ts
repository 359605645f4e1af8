// `mup cluster credentials NAME [--uri]`: the admin user and password of a cluster with auth — the one place
// mup prints a password. It runs as an operation so that every reading is journaled (seen in `cluster audit`);
// the journal records that the credentials were shown, never the password.
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { credentialUri } from '../mongo/uri.js';
import { defineOperation } from './operation.js';

export interface CredentialsReport {
  user: string;
  password: string;
  authSource: string;
  /** The cluster URI with the user and password in it. */
  uri: string;
}

export const credentialsOperation = defineOperation({
  name: 'credentials',
  args: z.object({ uri: z.boolean() }),
  validate: (meta) => {
    if (!meta.auth)
      throw new UsageError(
        `cluster '${meta.name}' has no auth: it was deployed with --no-auth (or before mup set up auth)`,
        'it accepts connections without credentials; see `mup cluster display` for its URI',
      );
  },
  plan: (rt, args) => {
    let shown: CredentialsReport | undefined;
    return {
      operation: 'credentials',
      cluster: rt.meta.name,
      phases: [
        {
          name: 'credentials',
          title: 'Read the admin credentials',
          parallel: false,
          steps: [
            {
              id: 'credentials:admin',
              title: `show the password of the admin user${args.uri ? ' in a connection string' : ''}`,
              run: async () => {
                const credentials = rt.credentials('admin');
                if (credentials === undefined)
                  throw new UsageError(`cluster '${rt.meta.name}' has no stored admin credentials`);
                shown = {
                  user: credentials.username,
                  password: credentials.password,
                  authSource: credentials.source,
                  uri: credentialUri(rt.meta.topology, credentials, rt.tlsClient()),
                };
                return `shown for ${credentials.toString()}`;
              },
            },
          ],
        },
      ],
      // Only once the step ran: a dry run shows the plan, never the password.
      report: () => (shown === undefined ? {} : { credentials: shown }),
    };
  },
});
