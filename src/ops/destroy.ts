// `mup cluster destroy`: stop everything, remove supervisord configs, deploy and log dirs, data dirs unless
// --keep-data (which really keeps them), then forget the cluster. Typed confirmation unless --yes.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { clusterTlsPaths } from '../meta/tls-paths.js';
import { recordKeptCa, recordKeptPorts, recordKeptSecrets } from './data-dirs.js';
import { defineOperation } from './operation.js';
import { buildDestroyPlan } from './plans.js';

export const destroyOperation = defineOperation({
  name: 'destroy',
  args: z.object({ keepData: z.boolean().default(false) }),
  confirm: 'typed',
  plan: (rt, args) => buildDestroyPlan(rt, args.keepData),
  target: () => undefined,
  finish: async (rt, args) => {
    if (args.keepData) {
      await recordKeptPorts(rt.store.home, rt.meta.name, rt.instances);
      // The kept data holds the admin user: a redeploy authenticates with the same secrets.
      if (rt.authSecrets !== undefined) await recordKeptSecrets(rt.store.home, rt.meta.name, rt.authSecrets);
      if (rt.meta.tls === true) {
        const paths = clusterTlsPaths(rt.store.secretsDir(rt.meta.name));
        const [cert, key] = await Promise.all([
          readFile(paths.caFile, 'utf8'),
          readFile(paths.caKeyFile, 'utf8'),
        ]);
        await recordKeptCa(rt.store.home, rt.meta.name, { cert, key });
      }
    }
    await rt.store.remove(rt.meta.name);
  },
});
