// addShard on the config server primary: the candidate is checked with hello exactly as
// _validateHostAsShard does (mongos, no primary, set name, config server, seed hosts), its databases must
// be new to the cluster, it receives its shardIdentity (refused without --shardsvr) and the cluster's
// FCV, and only then is it written to config.shards. Source: reference/mongod-behavior.md §4.3, §6;
// MongoDB sharding_catalog_manager_shard_operations (_checkIfShardExists, _validateHostAsShard, addShard).
import { type Document, UUID } from 'bson';
import type { CommandContext } from '../commands/registry.js';
import { CommandError, ErrorCode } from '../errors.js';
import { atLeast } from '../version.js';
import { CatalogBatch, CONFIG_DB, databaseDoc, readById, shardDoc } from './catalog.js';
import { type ConfigServer, INTERNAL_DBS, MAJORITY } from './configsvr.js';
import {
  ConnectionStringError,
  formatConnectionString,
  parseConnectionString,
  type SetConnectionString,
} from './connection-string.js';
import { replyError, replyOk, SetTarget } from './remote.js';

/** _checkIfShardExists: an identical re-add succeeds, any overlap otherwise fails with 20. */
function existingShard(
  server: ConfigServer,
  cs: SetConnectionString,
  name: string | undefined,
): Document | undefined {
  for (const existing of server.shards()) {
    const ecs = parseConnectionString(String(existing.host));
    const equivalent = (name === undefined || name === existing._id) && ecs.setName === cs.setName;
    if (ecs.setName && cs.setName && ecs.setName === cs.setName) {
      if (equivalent) return existing;
      throw new CommandError(
        ErrorCode.IllegalOperation,
        `A shard already exists containing the replica set '${ecs.setName}'`,
      );
    }
    for (const h of ecs.hosts) {
      if (cs.hosts.includes(h)) {
        if (equivalent) return existing;
        throw new CommandError(
          ErrorCode.IllegalOperation,
          `'${h}' is already a member of the existing shard '${existing.host}' (${existing._id}).`,
        );
      }
    }
    if (name !== undefined && name === existing._id) {
      throw new CommandError(ErrorCode.IllegalOperation, `A shard named ${name} already exists`);
    }
  }
  return undefined;
}

/** _validateHostAsShard: hello on the candidate, with the real checks and messages. */
async function validateHostAsShard(
  server: ConfigServer,
  target: SetTarget,
  cs: SetConnectionString,
  name: string | undefined,
): Promise<{ name: string; host: string }> {
  const text = formatConnectionString(cs);
  const primary = await target.findPrimary(3000);
  let hello: Document | undefined;
  if (primary) hello = await target.hello(primary);
  else {
    const replies = new Map<string, Document>();
    await target.discover(replies);
    hello = [...replies.values()][0];
  }
  // No member answered at all: the targeter cannot find the primary it needs.
  if (!hello) throw target.noPrimaryError();
  if (hello.msg === 'isdbgrid')
    throw new CommandError(ErrorCode.IllegalOperation, 'cannot add a mongos as a shard');
  if (hello.ismaster !== true) {
    throw new CommandError(
      ErrorCode.NotWritablePrimary,
      `${text} does not have a master. If this is a replica set, ensure that it has a healthy primary and that the set has been properly initiated.`,
    );
  }
  const found = typeof hello.setName === 'string' ? hello.setName : '';
  if (!cs.setName && found) {
    throw new CommandError(
      ErrorCode.OperationFailed,
      `host is part of set ${found}; use replica set url format <setname>/<server1>,<server2>, ...`,
    );
  }
  if (cs.setName && !found) {
    throw new CommandError(
      ErrorCode.OperationFailed,
      `host did not return a set name; is the replica set still initializing? ${JSON.stringify(hello)}`,
    );
  }
  if (cs.setName && cs.setName !== found) {
    throw new CommandError(
      ErrorCode.OperationFailed,
      `the provided connection string (${text}) does not match the actual set name ${found}`,
    );
  }
  if (hello.configsvr !== undefined) {
    throw new CommandError(
      ErrorCode.OperationFailed,
      `Cannot add ${text} as a shard since it is a config server`,
    );
  }
  const members = new Set<string>();
  for (const key of ['hosts', 'passives', 'arbiters']) {
    for (const h of (hello[key] as string[] | undefined) ?? []) members.add(h);
  }
  if (cs.setName) {
    for (const h of cs.hosts) {
      if (!members.has(h)) {
        throw new CommandError(
          ErrorCode.OperationFailed,
          `in seed list ${text}, host ${h} does not belong to replica set ${found}; found ${JSON.stringify(hello)}`,
        );
      }
    }
  }
  const shardName = name ?? (found || generatedShardName(server));
  if (shardName === 'config') {
    throw new CommandError(ErrorCode.BadValue, "use of shard replica set with name 'config' is not allowed");
  }
  const known = [
    ...((hello.hosts as string[] | undefined) ?? []),
    ...((hello.passives as string[] | undefined) ?? []),
  ];
  const host = cs.setName ? `${cs.setName}/${(known.length > 0 ? known : cs.hosts).join(',')}` : text;
  return { name: shardName, host };
}

/** generateNewShardName: one past the highest existing "shardNNNN" id, so removed names are not reused. */
function generatedShardName(server: ConfigServer): string {
  let next = 0;
  for (const s of server.shards()) {
    const m = /^shard(\d+)$/.exec(String(s._id));
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return `shard${String(next).padStart(4, '0')}`;
}

export async function addShard(server: ConfigServer, ctx: CommandContext): Promise<Document> {
  const raw = ctx.body[ctx.name];
  if (typeof raw !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, `'${ctx.name}' must be a string`);
  let cs: SetConnectionString;
  try {
    cs = parseConnectionString(raw);
  } catch (err) {
    if (err instanceof ConnectionStringError) throw new CommandError(ErrorCode.FailedToParse, err.message);
    throw err;
  }
  const name = typeof ctx.body.name === 'string' ? ctx.body.name : undefined;
  if (name !== undefined && name === '')
    throw new CommandError(ErrorCode.BadValue, 'shard name cannot be empty');
  return server.exclusive(async () => {
    server.node.role.checkWrite(CONFIG_DB);
    await server.ensureVersionDoc();
    const existing = existingShard(server, cs, name);
    if (existing) return { shardAdded: existing._id };
    const target = new SetTarget(cs, server.pool);
    const shard = await validateHostAsShard(server, target, cs, name);
    // Databases already on the candidate must not exist elsewhere in the cluster.
    const list = await target.runOnPrimary('admin', { listDatabases: 1, nameOnly: true });
    if (!replyOk(list)) throw replyError(list);
    const dbNames = ((list.databases as Document[]) ?? [])
      .map((d) => String(d.name))
      .filter((n) => !INTERNAL_DBS.has(n));
    for (const dbName of dbNames) {
      const dbDoc = readById(server.storage, 'databases', dbName);
      if (dbDoc) {
        throw new CommandError(
          ErrorCode.OperationFailed,
          `can't add shard '${formatConnectionString(cs)}' because a local database '${dbName}' exists in another ${dbDoc.primary}`,
        );
      }
    }
    // The shardIdentity document makes the shard sharding-aware; a mongod without --shardsvr refuses it.
    const identity = await target.runOnPrimary('admin', {
      _addShard: 1,
      shardIdentity: {
        shardName: shard.name,
        clusterId: server.clusterId(),
        configsvrConnectionString: server.ownConnectionString(),
      },
      writeConcern: MAJORITY,
    });
    if (!replyOk(identity)) throw replyError(identity);
    await alignShardFcv(server, target);
    const batch = new CatalogBatch(server.storage).put(
      'shards',
      shardDoc(server.version, shard.name, shard.host),
    );
    for (const dbName of dbNames) {
      batch.put('databases', databaseDoc(server.version, dbName, shard.name, new UUID(), 1, false));
    }
    await server.commit(batch);
    server.node.log.info(
      'SHARDING',
      21942,
      `conn${ctx.conn.id}`,
      'Going to insert new entry for shard into config.shards',
      {
        shardType: shardDoc(server.version, shard.name, shard.host),
      },
    );
    return { shardAdded: shard.name };
  });
}

/** addShard sets the new shard's FCV to the cluster's (§6 "Where FCV comes from"). */
async function alignShardFcv(server: ConfigServer, target: SetTarget): Promise<void> {
  const mine = await server.node.commands.run({
    node: server.node,
    conn: { id: 0, remote: 'internal', remoteAddress: '127.0.0.1', closed: new AbortController().signal },
    db: 'admin',
    name: 'getParameter',
    body: { getParameter: 1, featureCompatibilityVersion: 1 },
    secondaryOk: true,
    fireAndForget: false,
  });
  const clusterFcv = (mine.featureCompatibilityVersion as Document | undefined)?.version;
  if (typeof clusterFcv !== 'string') return;
  const theirs = await target.runOnPrimary('admin', { getParameter: 1, featureCompatibilityVersion: 1 });
  const shardFcv = (theirs.featureCompatibilityVersion as Document | undefined)?.version;
  if (!replyOk(theirs) || shardFcv === clusterFcv) return;
  const body: Document = { setFeatureCompatibilityVersion: clusterFcv, writeConcern: MAJORITY };
  if (atLeast(server.version, 7, 0)) body.confirm = true;
  const set = await target.runOnPrimary('admin', body);
  if (!replyOk(set)) throw replyError(set);
}
