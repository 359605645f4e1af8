// What each MongoDB version (and each process kind) refuses in a config file. mongod and mongos read the
// YAML against a fixed option table and exit 2 with "Unrecognized option: <dotted.key>" on anything unknown
// (https://www.mongodb.com/docs/manual/reference/configuration-options/), so an option that is removed, not yet added, or meant for the other
// process kind makes the process fail at start. Sources: MongoDB manual, "Configuration File Settings and
// Command-Line Options Mapping" change log (3.6 → 8.0), and the release notes cited per rule.
import type { ConfigProblem } from './config-problems.js';
import { type ConfigTree, getPath, leaves } from './config-tree.js';
import { isAtLeast, type MongoVersion } from './mongo-version.js';

export type ProcessKind = 'mongod' | 'mongos';

interface AvailabilityRule {
  /** Dotted option path; the rule covers the option and everything beneath it. */
  option: string;
  /** First version that accepts the option. */
  since?: string;
  /** First version that rejects the option. */
  removedIn?: string;
  /** Why, in a few words, and what to use instead. */
  reason: string;
}

const AVAILABILITY_RULES: readonly AvailabilityRule[] = [
  // 4.2 renamed the TLS options: net.tls.* is new; net.ssl.* stays accepted (deprecated) through 8.0.
  { option: 'net.tls', since: '4.2.0', reason: 'net.tls.* arrived in 4.2; use net.ssl.* before 4.2' },
  // 4.2 removed MMAPv1 and its options.
  { option: 'storage.mmapv1', removedIn: '4.2.0', reason: 'the MMAPv1 storage engine was removed in 4.2' },
  { option: 'storage.repairPath', removedIn: '4.2.0', reason: 'an MMAPv1 option, removed with it in 4.2' },
  {
    option: 'replication.secondaryIndexPrefetch',
    removedIn: '4.2.0',
    reason: 'an MMAPv1 option, removed with it in 4.2',
  },
  // 4.4 removed --noIndexBuildRetry / storage.indexBuildRetry.
  {
    option: 'storage.indexBuildRetry',
    removedIn: '4.4.0',
    reason: 'index builds are always resumed since 4.4',
  },
  // 4.4 added a minimum oplog retention period.
  {
    option: 'storage.oplogMinRetentionHours',
    since: '4.4.0',
    reason: 'the minimum oplog window arrived in 4.4',
  },
  // 5.0 removed --serviceExecutor / net.serviceExecutor.
  {
    option: 'net.serviceExecutor',
    removedIn: '5.0.0',
    reason: 'the service executor option was removed in 5.0',
  },
  // 6.1 always journals and removed storage.journal.enabled (--journal/--nojournal): 7.0 and 8.0 exit 2 on it.
  { option: 'storage.journal.enabled', removedIn: '6.1.0', reason: 'journaling is always on since 6.1' },
];

/** Sections and options that exist for one process kind only: the other one exits 2 on them. */
const PROCESS_ONLY: Readonly<Record<ProcessKind, readonly string[]>> = {
  // mongos keeps no data and has no replication: storage.* and replication.* are mongod options,
  // and so are security.authorization and sharding.clusterRole.
  mongod: ['storage', 'replication', 'sharding.clusterRole', 'security.authorization'],
  // sharding.configDB tells a mongos where the config servers are; mongod does not know it.
  mongos: ['sharding.configDB'],
};

/** Options whose path equals `option` or lies beneath it. */
function covers(option: string, path: string): boolean {
  return path === option || path.startsWith(`${option}.`);
}

export interface VersionCheckContext {
  process: ProcessKind;
  version: MongoVersion;
  /** The instance is a replica-set member (some values are refused only there). */
  replicaSetMember: boolean;
}

/**
 * Problems with the user's (expanded) settings that the target process and version would refuse.
 * Only the user's options are checked: mup's own part is correct by construction (golden tests pin it).
 */
export function findVersionProblems(user: ConfigTree, context: VersionCheckContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (problem: ConfigProblem): void => {
    const key = `${problem.code} ${problem.option}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(problem);
  };
  const { process, version } = context;
  const other: ProcessKind = process === 'mongod' ? 'mongos' : 'mongod';

  for (const [path] of leaves(user)) {
    const foreign = PROCESS_ONLY[other].find((option) => covers(option, path));
    if (foreign !== undefined) {
      add({
        code: 'wrong-process',
        option: foreign,
        message: `is a ${other} option; ${process} exits 2 with "Unrecognized option" on it`,
      });
      continue;
    }
    for (const rule of AVAILABILITY_RULES) {
      if (!covers(rule.option, path)) continue;
      if (rule.since !== undefined && !isAtLeast(version, rule.since)) {
        add({
          code: 'not-yet-available',
          option: rule.option,
          message: `does not exist in MongoDB ${version.raw} (${rule.reason}); ${process} would exit 2 on it`,
        });
      }
      if (rule.removedIn !== undefined && isAtLeast(version, rule.removedIn)) {
        add({
          code: 'removed',
          option: rule.option,
          message: `was removed in MongoDB ${shortVersion(rule.removedIn)} (${rule.reason}); ${process} ${version.raw} would exit 2 on it`,
        });
      }
    }
  }
  problems.push(...findRejectedValues(user, context));
  return problems;
}

/** Options that exist but whose value the target version refuses at startup. */
function findRejectedValues(user: ConfigTree, context: VersionCheckContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (option: string): unknown => getPath(user, option);
  // mongod and mongos both refuse bindIp together with bindIpAll.
  if (at('net.bindIpAll') === true && at('net.bindIp') !== undefined) {
    problems.push({
      code: 'rejected-value',
      option: 'net.bindIpAll',
      message: 'cannot be combined with net.bindIp; set one of them',
    });
  }
  // The rest concern mongod-only sections, already reported as wrong-process for mongos.
  if (context.process !== 'mongod') return problems;
  const { version, replicaSetMember } = context;

  // 4.2 removed the MMAPv1 engine itself.
  if (at('storage.engine') === 'mmapv1' && isAtLeast(version, '4.2.0')) {
    problems.push({
      code: 'rejected-value',
      option: 'storage.engine',
      message: `mmapv1 was removed in MongoDB 4.2; ${version.raw} supports wiredTiger (or inMemory)`,
    });
  }
  // 5.0 makes majority read concern permanent: the server refuses enableMajorityReadConcern: false.
  if (at('replication.enableMajorityReadConcern') === false && isAtLeast(version, '5.0.0')) {
    problems.push({
      code: 'rejected-value',
      option: 'replication.enableMajorityReadConcern',
      message: `cannot be false from MongoDB 5.0 (majority read concern is always on); ${version.raw} refuses it`,
    });
  }
  // From 4.0, a WiredTiger replica-set member refuses to run without a journal (until 6.1 removed the option).
  if (
    at('storage.journal.enabled') === false &&
    replicaSetMember &&
    isAtLeast(version, '4.0.0') &&
    !isAtLeast(version, '6.1.0')
  ) {
    problems.push({
      code: 'rejected-value',
      option: 'storage.journal.enabled',
      message: `cannot be false on a replica-set member from MongoDB 4.0 (WiredTiger members need the journal); ${version.raw} refuses it`,
    });
  }
  return problems;
}

function shortVersion(core: string): string {
  return core.replace(/\.0$/, '');
}
