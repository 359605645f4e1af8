// Safe reconfig (4.4+), the rules a non-force replSetReconfig must pass on top of config validation:
// - "config committed": a majority of voters run the current config (308 CurrentConfigNotCommittedYet);
// - "oplog committed": the newest optime committed under the previous config, and the primary's first
//   optime of its term, are majority-durable among the writable voters of the current config;
// - the primary stays electable in the new config (104 NodeNotElectable from 5.0; earlier releases
//   found self inside validateConfigForReconfig and answered 103 with the same text).
// The command also waits for both conditions after installing the new config (bounded by maxTimeMS).
// Sources: src/mongo/db/repl/replication_coordinator_impl.cpp (_doReplSetReconfig,
// awaitConfigCommitment), src/mongo/db/repl/repl_set_config_checks.cpp (checkElectable),
// jstests/replsets/reconfig_waits_for_oplog_commitment_condition.js, error_codes.yml (104
// NodeNotElectable, 109 ConfigurationInProgress, 308 CurrentConfigNotCommittedYet).
import { CommandError } from '../errors.js';
import {
  ConfigError,
  type ReplSetConfig,
  versionAndTermString,
  writableVotingMembers,
  writeMajorityCount,
} from './config.js';
import { checkElectable } from './config-checks.js';
import { compareOpTime, NULL_OPTIME, type OpTime } from './optime.js';
import type { ReplSetRole } from './role.js';
import { sleep } from './role.js';

const CURRENT_CONFIG_NOT_COMMITTED_YET = 308;
const NODE_NOT_ELECTABLE = 104;
const NEW_CONFIG_INCOMPATIBLE = 103;
const CONFIGURATION_IN_PROGRESS = 109;

/**
 * The jstests of the 4.4 era expect ConfigurationInProgress for a failed oplog commitment and current
 * master answers CurrentConfigNotCommittedYet with "is not majority committed" wording for the config
 * condition; the release where both changed is not pinned down, so 7.0 is taken as the boundary.
 */
const newerWording = (role: ReplSetRole): boolean => role.features.major >= 7;

function opTimeText(o: OpTime): string {
  return `{ ts: Timestamp(${o.secs}, ${o.inc}), t: ${o.term} }`;
}

/** The optime that must be committed in the current config before another reconfig. */
function oplogCommitmentTarget(role: ReplSetRole): OpTime {
  const first = role.topo.firstOpTimeOfTerm ?? NULL_OPTIME;
  const prev = role.lastCommittedInPrevConfig;
  return compareOpTime(prev, first) >= 0 ? prev : first;
}

/** Whether a write majority of the current config's writable voters has `target` durable. */
function committedInCurrentConfig(role: ReplSetRole, target: OpTime): boolean {
  const topo = role.topo;
  const config = topo.config;
  if (!config) return false;
  const writable = writableVotingMembers(config);
  let have = 0;
  config.members.forEach((m, i) => {
    if (!writable.includes(m)) return;
    const durable = i === topo.selfIndex ? topo.myDurable : (topo.peers[i]?.durable ?? NULL_OPTIME);
    if (compareOpTime(durable, target) >= 0) have++;
  });
  return have >= writeMajorityCount(config);
}

/** Whether the oplog condition applies: not after initiate (version 1), not after a force reconfig. */
function oplogConditionApplies(config: ReplSetConfig): boolean {
  return config.version !== 1 && config.term !== -1;
}

/** The two preconditions of a non-force 4.4+ reconfig, checked before the new config is parsed. */
export function checkConfigCommitment(role: ReplSetRole, current: ReplSetConfig): void {
  const id = versionAndTermString(current.version, current.term);
  if (!role.configCommitted()) {
    throw new CommandError(
      CURRENT_CONFIG_NOT_COMMITTED_YET,
      newerWording(role)
        ? `Cannot run replSetReconfig because the current config: ${id} is not majority committed.`
        : `Cannot run replSetReconfig because the current config: ${id} is not yet committed.`,
      {},
      'CurrentConfigNotCommittedYet',
    );
  }
  if (!oplogConditionApplies(current)) return;
  const target = oplogCommitmentTarget(role);
  if (committedInCurrentConfig(role, target)) return;
  role.logRepl(
    'I',
    51816,
    'Oplog config commitment condition failed to be satisfied. The last committed optime in the previous config is not committed in current config',
    { configOplogCommitmentOpTime: opTimeText(target) },
  );
  const message = `Last committed optime from previous config (${opTimeText(target)}) is not committed in the current config.`;
  if (newerWording(role)) {
    throw new CommandError(CURRENT_CONFIG_NOT_COMMITTED_YET, message, {}, 'CurrentConfigNotCommittedYet');
  }
  throw new CommandError(CONFIGURATION_IN_PROGRESS, message, {}, 'ConfigurationInProgress');
}

/** A non-force reconfig may not make the node running it unelectable. */
export function checkSelfElectable(role: ReplSetRole, config: ReplSetConfig, selfIndex: number): void {
  try {
    checkElectable(config, selfIndex, role.features);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (role.features.major >= 5) {
      role.logRepl('E', 6475002, 'Not electable in new config and force=false, rejecting', {
        error: err.message,
      });
      throw new CommandError(NODE_NOT_ELECTABLE, err.message, {}, 'NodeNotElectable');
    }
    throw new CommandError(
      NEW_CONFIG_INCOMPATIBLE,
      err.message,
      {},
      'NewReplicaSetConfigurationIncompatible',
    );
  }
}

/**
 * After installing a non-force config, replSetReconfig returns once a majority runs it and the oplog
 * commitment condition holds in it; maxTimeMS (the deadline) bounds the wait (50 MaxTimeMSExpired).
 */
export async function waitForOplogCommitment(
  role: ReplSetRole,
  version: number,
  deadline: number,
): Promise<void> {
  for (;;) {
    const config = role.topo.config;
    if (!config || config.version !== version || !oplogConditionApplies(config)) return;
    if (committedInCurrentConfig(role, oplogCommitmentTarget(role))) return;
    if (Date.now() >= deadline) {
      throw new CommandError(50, 'operation exceeded time limit', {}, 'MaxTimeMSExpired');
    }
    await sleep(20);
  }
}
