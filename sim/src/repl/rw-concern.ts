// Cluster-wide default read/write concern (setDefaultRWConcern / getDefaultRWConcern, 4.4+), stored in
// config.settings {_id: "ReadWriteConcernDefaults"} and replicated like any write. From 5.0 the implicit
// default write concern is majority, or w:1 for a PSA-like set, and a reconfig that would change it is
// refused until a cluster-wide default exists ("Starting in MongoDB 5.0, you must explicitly set the
// global default write concern before ... a configuration that would change the implicit default").
import { type Document, Int32 } from 'bson';
import type { CommandContext } from '../commands/registry.js';
import { CommandError } from '../errors.js';
import type { StorageOp } from '../storage/store.js';
import { isVoter, majorityVoteCount, type ReplSetConfig, writableVotingMembers } from './config.js';
import { notPrimaryText, ReplCode } from './errors.js';
import type { ReplSetRole } from './role.js';

const DB = 'config';
const COLL = 'settings';
const ID = 'ReadWriteConcernDefaults';

export function readDefaults(role: ReplSetRole): Document | undefined {
  return role.node.storage?.getCollection(DB, COLL)?.findById(ID);
}

/** The implicit default w of a config (5.0+): 1 for a PSA-like set, otherwise "majority". */
export function implicitDefaultW(config: ReplSetConfig): number | 'majority' {
  const arbiters = config.members.filter((m) => m.arbiterOnly && isVoter(m)).length;
  const dataVoters = writableVotingMembers(config).length;
  return arbiters > 0 && dataVoters <= majorityVoteCount(config) ? 1 : 'majority';
}

/** The reconfig rule of 5.0+: refuse to change the implicit default without a cluster-wide one. */
export function checkImplicitDefaultUnchanged(
  role: ReplSetRole,
  oldConfig: ReplSetConfig,
  newConfig: ReplSetConfig,
): void {
  if (role.features.major < 5) return;
  if (readDefaults(role)?.defaultWriteConcern) return;
  if (implicitDefaultW(oldConfig) === implicitDefaultW(newConfig)) return;
  throw new CommandError(
    ReplCode.NewReplicaSetConfigurationIncompatible,
    'Reconfig attempted to install a config that would change the implicit default write concern. Use the setDefaultRWConcern command to set a cluster-wide write concern and try the reconfig again.',
  );
}

function reply(role: ReplSetRole, stored: Document | undefined): Document {
  const config = role.topo.config;
  const out: Document = { defaultReadConcern: stored?.defaultReadConcern ?? { level: 'local' } };
  if (stored?.defaultWriteConcern) out.defaultWriteConcern = stored.defaultWriteConcern;
  else if (role.features.major >= 5 && config) {
    const w = implicitDefaultW(config);
    out.defaultWriteConcern = { w: w === 1 ? new Int32(1) : w, wtimeout: new Int32(0) };
  }
  if (stored?.updateOpTime) out.updateOpTime = stored.updateOpTime;
  if (stored?.updateWallClockTime) out.updateWallClockTime = stored.updateWallClockTime;
  if (role.features.major >= 5) {
    out.defaultWriteConcernSource = stored?.defaultWriteConcern ? 'global' : 'implicit';
    out.defaultReadConcernSource = stored?.defaultReadConcern ? 'global' : 'implicit';
  }
  out.localUpdateWallClockTime = new Date();
  return out;
}

export function getDefaultRWConcern(role: ReplSetRole): Document {
  return reply(role, readDefaults(role));
}

export async function setDefaultRWConcern(role: ReplSetRole, ctx: CommandContext): Promise<Document> {
  const wc = ctx.body.defaultWriteConcern as Document | undefined;
  const rc = ctx.body.defaultReadConcern as Document | undefined;
  if (wc === undefined && rc === undefined) {
    throw new CommandError(
      ReplCode.BadValue,
      'At least one of the "defaultReadConcern" or "defaultWriteConcern" fields must be present',
    );
  }
  if (!role.topo.canAcceptWrites) {
    throw new CommandError(ReplCode.NotWritablePrimary, notPrimaryText(role.features, 'write'));
  }
  const storage = role.node.requireStorage();
  const current = readDefaults(role);
  const doc: Document = { _id: ID };
  const rcValue = rc ?? current?.defaultReadConcern;
  const wcValue = wc ?? current?.defaultWriteConcern;
  if (rcValue) doc.defaultReadConcern = rcValue;
  if (wcValue) doc.defaultWriteConcern = wcValue;
  doc.updateOpTime = role.nextTimestampHint();
  doc.updateWallClockTime = new Date();
  const ops: StorageOp[] = [];
  if (!storage.getCollection(DB, COLL)) ops.push({ op: 'createCollection', db: DB, coll: COLL });
  ops.push({ op: current ? 'replace' : 'insert', db: DB, coll: COLL, doc });
  const result = role.commit(ops);
  const wce = await role.waitForWriteConcern(result, { w: 'majority' });
  return { ...reply(role, doc), ...(wce ? { writeConcernError: wce } : {}) };
}
