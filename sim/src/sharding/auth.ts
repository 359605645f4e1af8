// Users on mongos: authentication reads the config servers' admin.system.users, and user management
// commands run on the config server primary (mongos checks the caller's privileges first, then talks
// to the config servers as __system). Source: MongoDB manual "Users" (sharded cluster users are
// stored on the config servers).
import type { Document } from 'bson';
import { RemoteUserSource } from '../auth/users.js';
import type { SimNode } from '../node.js';
import { replyError, replyOk } from './remote.js';
import type { Router } from './router.js';

const USER_COMMANDS = [
  'createUser',
  'updateUser',
  'dropUser',
  'dropAllUsersFromDatabase',
  'grantRolesToUser',
  'revokeRolesFromUser',
  'usersInfo',
];

/** Reply fields a config server adds that a client of mongos never sees from mongos itself. */
const CONFIG_REPLY_FIELDS = new Set([
  '$clusterTime',
  'operationTime',
  '$gleStats',
  '$configTime',
  '$topologyTime',
  'lastCommittedOpTime',
]);

export function registerRouterAuth(node: SimNode, router: Router): void {
  node.access.users = new RemoteUserSource(async (filter) => {
    const reply = await router.config.runOnPrimary('admin', {
      find: 'system.users',
      filter,
      batchSize: 1000,
    });
    if (!replyOk(reply)) throw replyError(reply);
    return ((reply.cursor as Document | undefined)?.firstBatch as Document[] | undefined) ?? [];
  });
  node.commands.register({
    names: USER_COMMANDS,
    program: 'mongos',
    handler: async (ctx) => {
      const body: Document = {};
      for (const [k, v] of Object.entries(ctx.body)) {
        if (k !== 'lsid' && k !== '$clusterTime' && k !== '$db' && k !== '$readPreference') body[k] = v;
      }
      const reply = await router.config.runOnPrimary(ctx.db, body, { timeoutMs: 60_000 });
      if (!replyOk(reply)) throw replyError(reply);
      const out: Document = {};
      for (const [k, v] of Object.entries(reply)) if (!CONFIG_REPLY_FIELDS.has(k) && k !== 'ok') out[k] = v;
      return out;
    },
  });
}
