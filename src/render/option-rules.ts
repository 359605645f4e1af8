// What each MongoDB version (and each process kind) refuses in a config file. mongod and mongos read the
// YAML against a fixed option table and exit 2 with "Unrecognized option: <dotted.key>" on anything unknown
// (https://www.mongodb.com/docs/manual/reference/configuration-options/), so an option that is removed, not yet added, or meant for the other
// process kind makes the process fail at start. Sources: MongoDB manual, "Configuration File Settings and
// Command-Line Options Mapping" change log (3.6 → 8.0), and the release notes cited per rule.
import { describeValue } from '../topology/issues.js';
import type { ConfigProblem } from './config-problems.js';
import { type ConfigTree, getPath, leaves } from './config-tree.js';
import { isAtLeast, type MongoVersion } from './mongo-version.js';
import { OPTION_TABLE, type OptionSpec } from './option-table.js';

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

  for (const [path, value] of leaves(user)) {
    const foreign = PROCESS_ONLY[other].find((option) => covers(option, path));
    if (foreign !== undefined) {
      add({
        code: 'wrong-process',
        option: foreign,
        message: `is a ${other} option; ${process} exits 2 with "Unrecognized option" on it`,
      });
      continue;
    }
    let versioned = false;
    for (const rule of AVAILABILITY_RULES) {
      if (!covers(rule.option, path)) continue;
      versioned = true;
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
    const tableProblem = checkAgainstTable(path, value, context, versioned);
    if (tableProblem !== undefined) add(tableProblem);
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
  problems.push(...findMissingCompanions(user, context.version));
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

/** The table entry for a leaf: its own, or an open section above it. */
function specFor(path: string): OptionSpec | undefined {
  return OPTION_TABLE.find((spec) => spec.path === path || (spec.type === 'open' && covers(spec.path, path)));
}

/**
 * Existence, process, version, type and range of one leaf against OPTION_TABLE. `versioned` leaves were
 * already judged by AVAILABILITY_RULES, so their version is not reported twice.
 */
function checkAgainstTable(
  path: string,
  value: unknown,
  context: VersionCheckContext,
  versioned: boolean,
): ConfigProblem | undefined {
  const { process, version } = context;
  const spec = specFor(path);
  if (spec === undefined) {
    if (versioned) return undefined;
    const above = OPTION_TABLE.find((s) => path.startsWith(`${s.path}.`));
    if (above !== undefined) {
      return {
        code: 'type-mismatch',
        option: above.path,
        message: 'is a value, not a section; give it a single value',
      };
    }
    const below = OPTION_TABLE.find((s) => s.path.startsWith(`${path}.`));
    if (below !== undefined) {
      return {
        code: 'type-mismatch',
        option: path,
        message: `is a section, not a value; give its options (such as ${below.path})`,
      };
    }
    const near = closestOption(path, process);
    return {
      code: 'unknown-option',
      option: path,
      message: `is not a ${process} option; ${process} ${version.raw} would exit 2 with "Unrecognized option: ${path}"${near ? ` (did you mean ${near}?)` : ''}`,
    };
  }
  if (spec.process !== undefined && spec.process !== process) {
    return {
      code: 'wrong-process',
      option: spec.path,
      message: `is a ${spec.process} option; ${process} exits 2 with "Unrecognized option" on it`,
    };
  }
  if (!versioned && spec.since !== undefined && !isAtLeast(version, spec.since)) {
    return {
      code: 'not-yet-available',
      option: spec.path,
      message: `does not exist in MongoDB ${version.raw} (added in ${shortVersion(spec.since)}); ${process} would exit 2 on it`,
    };
  }
  if (!versioned && spec.removedIn !== undefined && isAtLeast(version, spec.removedIn)) {
    return {
      code: 'removed',
      option: spec.path,
      message: `was removed in MongoDB ${shortVersion(spec.removedIn)}; ${process} ${version.raw} would exit 2 on it`,
    };
  }
  if (spec.type === 'open' && path === spec.path) {
    return {
      code: 'type-mismatch',
      option: path,
      message: `is a section; give its settings as a mapping, got ${describeValue(value)}`,
    };
  }
  const wrong = valueProblem(spec, value, version);
  return wrong === undefined ? undefined : { code: 'rejected-value', option: path, message: wrong };
}

/** Why `value` does not fit the option; undefined when it does. Ranges are the manual's. */
function valueProblem(spec: OptionSpec, value: unknown, version: MongoVersion): string | undefined {
  const got = `got ${describeValue(value)}`;
  switch (spec.type) {
    case 'open':
      return value === null ? `must have a value, ${got}` : undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `must be true or false, ${got}`;
    case 'string':
      return typeof value === 'string' && value !== '' ? undefined : `must be a non-empty string, ${got}`;
    case 'stringOrList':
      return (typeof value === 'string' && value !== '') ||
        (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== ''))
        ? undefined
        : `must be a string or a list of strings, ${got}`;
    case 'enum': {
      const allowed = (spec.values ?? []).filter((v) => {
        const since = spec.valuesSince?.[v];
        return since === undefined || isAtLeast(version, since);
      });
      if (typeof value === 'string' && allowed.includes(value)) return undefined;
      const later = typeof value === 'string' ? spec.valuesSince?.[value] : undefined;
      if (later !== undefined)
        return `"${value}" needs MongoDB ${shortVersion(later)} or later; ${version.raw} refuses it`;
      return `must be one of ${allowed.join(', ')}, ${got}`;
    }
    case 'int':
    case 'double': {
      const isNumber = typeof value === 'number' && Number.isFinite(value);
      if (!isNumber || (spec.type === 'int' && !Number.isInteger(value))) {
        return `must be ${spec.type === 'int' ? 'an integer' : 'a number'}${rangeText(spec)}, ${got}`;
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        return `must be${rangeText(spec)}, ${got}`;
      }
      return undefined;
    }
  }
}

function rangeText(spec: OptionSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

/**
 * Options that need another one: a TLS mode other than disabled needs the server certificate (mongod and
 * mongos refuse to start with "need tlsCertificateKeyFile or certificateSelector when TLS is enabled"),
 * and x.509 cluster authentication needs TLS.
 */
function findMissingCompanions(user: ConfigTree, version: MongoVersion): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (option: string): unknown => getPath(user, option);
  const tlsMode = at('net.tls.mode');
  const sslMode = at('net.ssl.mode');
  // Before 4.2 net.tls.* itself is refused (AVAILABILITY_RULES); saying what it lacks would be noise.
  const tlsOn = typeof tlsMode === 'string' && tlsMode !== 'disabled' && isAtLeast(version, '4.2.0');
  const sslOn = typeof sslMode === 'string' && sslMode !== 'disabled';
  if (
    tlsOn &&
    at('net.tls.certificateKeyFile') === undefined &&
    at('net.tls.certificateSelector') === undefined
  ) {
    problems.push({
      code: 'rejected-value',
      option: 'net.tls.mode',
      message: `${tlsMode} needs net.tls.certificateKeyFile (the server certificate); the server refuses to start without it`,
    });
  }
  if (sslOn && at('net.ssl.PEMKeyFile') === undefined && at('net.ssl.certificateSelector') === undefined) {
    problems.push({
      code: 'rejected-value',
      option: 'net.ssl.mode',
      message: `${sslMode} needs net.ssl.PEMKeyFile (the server certificate); the server refuses to start without it`,
    });
  }
  const authMode = at('security.clusterAuthMode');
  if ((authMode === 'x509' || authMode === 'sendX509') && !tlsOn && !sslOn) {
    problems.push({
      code: 'rejected-value',
      option: 'security.clusterAuthMode',
      message: `${authMode} authenticates members with TLS certificates; set net.tls.mode and net.tls.certificateKeyFile too`,
    });
  }
  return problems;
}

/** The table option closest to a misspelled one, when it is close enough to be a typo. */
function closestOption(path: string, process: ProcessKind): string | undefined {
  let best: { path: string; distance: number } | undefined;
  for (const spec of OPTION_TABLE) {
    if (spec.type === 'open' || (spec.process !== undefined && spec.process !== process)) continue;
    const distance = editDistance(path.toLowerCase(), spec.path.toLowerCase());
    if (best === undefined || distance < best.distance) best = { path: spec.path, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(path.length / 8))
    ? best.path
    : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
