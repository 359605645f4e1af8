// The replica-set config document: parsing, validation and serialization as mongod does them
// (reference §3.2; repl_set_config.cpp / member_config.cpp). Every failure is a ConfigError with the
// underlying code (2 BadValue, 14 TypeMismatch, 40415 unknown field); replSetInitiate wraps it as 93.
import { Double, Int32, Long, ObjectId } from 'bson';
import type { ReplFeatures } from './features.js';
import { numberOf } from './optime.js';

export const MAX_MEMBERS = 50;
export const MAX_VOTING_MEMBERS = 7;
/** §3.2: secondaryDelaySecs / slaveDelay upper bound (366 days). */
export const MAX_DELAY_SECS = 31622400;

export interface MemberConfig {
  readonly id: number;
  /** "host:port", port made explicit. */
  readonly host: string;
  readonly arbiterOnly: boolean;
  readonly buildIndexes: boolean;
  readonly hidden: boolean;
  readonly priority: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly secondaryDelaySecs: number;
  readonly votes: number;
  readonly newlyAdded: boolean;
}

export interface ReplSetSettings {
  readonly chainingAllowed: boolean;
  readonly heartbeatIntervalMillis: number;
  readonly heartbeatTimeoutSecs: number;
  readonly electionTimeoutMillis: number;
  readonly catchUpTimeoutMillis: number;
  readonly catchUpTakeoverDelayMillis: number;
  readonly getLastErrorModes: Readonly<Record<string, unknown>>;
  readonly getLastErrorDefaults: Readonly<Record<string, unknown>>;
  readonly replicaSetId: ObjectId | null;
}

export interface ReplSetConfig {
  readonly setName: string;
  readonly version: number;
  /** -1 when absent (before 4.4, or a config not yet stamped with a term). */
  readonly term: number;
  readonly protocolVersion: number;
  readonly writeConcernMajorityJournalDefault: boolean;
  readonly configsvr: boolean;
  readonly members: readonly MemberConfig[];
  readonly settings: ReplSetSettings;
}

export const DEFAULT_SETTINGS: ReplSetSettings = Object.freeze({
  chainingAllowed: true,
  heartbeatIntervalMillis: 2000,
  heartbeatTimeoutSecs: 10,
  electionTimeoutMillis: 10000,
  catchUpTimeoutMillis: -1,
  catchUpTakeoverDelayMillis: 30000,
  getLastErrorModes: {},
  getLastErrorDefaults: { w: 1, wtimeout: 0 },
  replicaSetId: null,
});

export class ConfigError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.code = code;
  }
}

const BAD_VALUE = 2;
const TYPE_MISMATCH = 14;
const NO_SUCH_KEY = 4;
const IDL_UNKNOWN_FIELD = 40415;
const IDL_MISSING_FIELD = 40414;
const IDL_VALIDATOR = 51024;

type Doc = Record<string, unknown>;

function isDoc(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !('_bsontype' in v);
}

function bsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object' && '_bsontype' in v) {
    const t = String((v as { _bsontype: string })._bsontype);
    return t === 'ObjectId' ? 'objectId' : t.toLowerCase();
  }
  return 'object';
}

/** Field-level helpers that phrase errors as the version's parser does (§3.2: IDL from 4.4). */
class FieldReader {
  constructor(
    private readonly features: ReplFeatures,
    private readonly struct: 'ReplSetConfig' | 'MemberConfig' | 'ReplSetConfigSettings',
    private readonly what: string,
  ) {}

  wrongType(field: string, value: unknown, expected: string): ConfigError {
    if (this.features.idlConfigParser) {
      return new ConfigError(
        TYPE_MISMATCH,
        `BSON field '${this.struct}.${field}' is the wrong type '${bsonTypeName(value)}', expected type '${expected}'`,
      );
    }
    return new ConfigError(
      TYPE_MISMATCH,
      `Expected "${field}" field in ${this.what} to have type ${expected}, found ${bsonTypeName(value)}`,
    );
  }

  missing(field: string): ConfigError {
    if (this.features.idlConfigParser) {
      return new ConfigError(
        IDL_MISSING_FIELD,
        `BSON field '${this.struct}.${field}' is missing but a required field`,
      );
    }
    return new ConfigError(NO_SUCH_KEY, `Missing expected field "${field}"`);
  }

  unknown(field: string): ConfigError {
    if (this.features.idlConfigParser) {
      return new ConfigError(IDL_UNKNOWN_FIELD, `BSON field '${this.struct}.${field}' is an unknown field.`);
    }
    return new ConfigError(BAD_VALUE, `Unexpected field ${field} in ${this.what}`);
  }

  checkFields(doc: Doc, allowed: readonly string[]): void {
    for (const key of Object.keys(doc)) {
      if (!allowed.includes(key)) throw this.unknown(key);
    }
  }

  string(doc: Doc, field: string, required: true): string;
  string(doc: Doc, field: string, required: false): string | undefined;
  string(doc: Doc, field: string, required: boolean): string | undefined {
    const v = doc[field];
    if (v === undefined) {
      if (required) throw this.missing(field);
      return undefined;
    }
    if (typeof v !== 'string') throw this.wrongType(field, v, 'string');
    return v;
  }

  number(doc: Doc, field: string, required: true): number;
  number(doc: Doc, field: string, required: false): number | undefined;
  number(doc: Doc, field: string, required: boolean): number | undefined {
    const v = doc[field];
    if (v === undefined) {
      if (required) throw this.missing(field);
      return undefined;
    }
    const n = numberOf(v);
    if (n === null) throw this.wrongType(field, v, this.features.idlConfigParser ? 'int' : 'number');
    return n;
  }

  /** mongod accepts numbers for bool fields (BSONElement::trueValue). */
  bool(doc: Doc, field: string): boolean | undefined {
    const v = doc[field];
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    const n = numberOf(v);
    if (n !== null) return n !== 0;
    throw this.wrongType(field, v, 'bool');
  }
}

/** Makes the port explicit, as HostAndPort does ("a" → "a:27017"); rejects malformed ports. */
export function normalizeHost(raw: string): string {
  const host = raw.trim();
  if (host.length === 0) throw new ConfigError(BAD_VALUE, 'Empty host-port string');
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0)
      throw new ConfigError(BAD_VALUE, `Missing closing square bracket in host-port string: "${host}"`);
    name = host.slice(0, close + 1);
    const rest = host.slice(close + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && host.indexOf(':') === colon) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
  }
  if (port === undefined) return `${name}:27017`;
  const p = Number(port);
  if (!/^\d+$/.test(port) || p <= 0 || p > 65535) {
    throw new ConfigError(BAD_VALUE, `Port number ${port} out of range parsing HostAndPort from "${host}"`);
  }
  return `${name}:${p}`;
}

export function hostName(hostPort: string): string {
  const i = hostPort.lastIndexOf(':');
  return i < 0 ? hostPort : hostPort.slice(0, i);
}

export function hostPort(hostPortStr: string): number {
  const i = hostPortStr.lastIndexOf(':');
  return i < 0 ? 27017 : Number(hostPortStr.slice(i + 1));
}

/** HostAndPort::isLocalHost(). */
export function isLocalHostName(host: string): boolean {
  const h = hostName(host).replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.startsWith('127.') || h === '::1';
}

function parseMember(raw: unknown, index: number, features: ReplFeatures, lenient: boolean): MemberConfig {
  const r = new FieldReader(features, 'MemberConfig', 'replica set member configuration');
  if (!isDoc(raw)) {
    throw new ConfigError(
      TYPE_MISMATCH,
      `Expected type of members.${index} field in replica set configuration to be Object, but found ${bsonTypeName(raw)}`,
    );
  }
  const allowed = [
    '_id',
    'host',
    'arbiterOnly',
    'buildIndexes',
    'hidden',
    'priority',
    'tags',
    'votes',
    'horizons',
    features.delayField,
    ...(features.configTerm ? ['newlyAdded'] : []),
  ];
  if (!lenient) r.checkFields(raw, allowed);
  const id = r.number(raw, '_id', true);
  const host = normalizeHost(r.string(raw, 'host', true));
  const arbiterOnly = r.bool(raw, 'arbiterOnly') ?? false;
  const buildIndexes = r.bool(raw, 'buildIndexes') ?? true;
  const hidden = r.bool(raw, 'hidden') ?? false;
  let priority = r.number(raw, 'priority', false) ?? (arbiterOnly ? 0 : 1);
  const votesRaw = r.number(raw, 'votes', false) ?? 1;
  const delay =
    r.number(raw, features.delayField, false) ??
    (lenient
      ? (r.number(raw, 'slaveDelay', false) ?? r.number(raw, 'secondaryDelaySecs', false))
      : undefined) ??
    0;
  const newlyAdded = r.bool(raw, 'newlyAdded') ?? false;
  const tags: Record<string, string> = {};
  if (raw.tags !== undefined) {
    if (!isDoc(raw.tags)) throw r.wrongType('tags', raw.tags, 'object');
    for (const [k, v] of Object.entries(raw.tags)) {
      if (typeof v !== 'string') {
        throw new ConfigError(
          TYPE_MISMATCH,
          `tags.${k} field has non-string value of type ${bsonTypeName(v)}`,
        );
      }
      tags[k] = v;
    }
  }

  // Range checks (member_config.cpp; IDL validators from 4.4).
  if (id < 0 || id > features.memberIdMax || !Number.isInteger(id)) {
    throw features.idlConfigParser
      ? new ConfigError(IDL_VALIDATOR, `BSON field '_id' value must be >= 0, actual value '${id}'`)
      : new ConfigError(BAD_VALUE, `_id field value of ${id} is out of range.`);
  }
  if (priority < 0 || priority > 1000) {
    throw features.idlConfigParser
      ? new ConfigError(
          IDL_VALIDATOR,
          `BSON field 'priority' value must be ${priority < 0 ? '>= 0' : '<= 1000'}, actual value '${priority}'`,
        )
      : new ConfigError(BAD_VALUE, `priority field value of ${priority} is out of range`);
  }
  // Old servers truncate fractional votes; a value outside {0,1} is refused.
  const votes = Math.trunc(votesRaw);
  if (votes !== 0 && votes !== 1) {
    throw features.idlConfigParser
      ? new ConfigError(
          IDL_VALIDATOR,
          `BSON field 'votes' value must be ${votes < 0 ? '>= 0' : '<= 1'}, actual value '${votesRaw}'`,
        )
      : new ConfigError(BAD_VALUE, `votes field value is ${votesRaw} but must be 0 or 1`);
  }
  if (delay < 0 || delay > MAX_DELAY_SECS) {
    throw new ConfigError(
      BAD_VALUE,
      `${features.delayField} field value of ${delay} seconds is out of range`,
    );
  }
  if (arbiterOnly) {
    // §3.2: an arbiter's (default) priority of 1 is rewritten to 0.
    if (priority === 1) priority = 0;
    if (votes === 0) throw new ConfigError(BAD_VALUE, 'Arbiter must vote (cannot have 0 votes)');
    if (newlyAdded) throw new ConfigError(BAD_VALUE, 'Arbiter cannot have newlyAdded field set');
    if (Object.keys(tags).length > 0) throw new ConfigError(BAD_VALUE, 'Cannot set tags on arbiters.');
  }
  if (priority !== 0) {
    if (votes === 0) throw new ConfigError(BAD_VALUE, 'priority must be 0 when non-voting (votes:0)');
    if (delay > 0) throw new ConfigError(BAD_VALUE, `priority must be 0 when ${features.delayField} is used`);
    if (hidden) throw new ConfigError(BAD_VALUE, 'priority must be 0 when hidden=true');
    if (!buildIndexes) throw new ConfigError(BAD_VALUE, 'priority must be 0 when buildIndexes=false');
  }
  return {
    id,
    host,
    arbiterOnly,
    buildIndexes,
    hidden,
    priority,
    tags,
    secondaryDelaySecs: delay,
    votes,
    newlyAdded,
  };
}

function parseSettings(raw: unknown, features: ReplFeatures): ReplSetSettings {
  if (raw === undefined) return DEFAULT_SETTINGS;
  const r = new FieldReader(features, 'ReplSetConfigSettings', 'replica set configuration settings');
  if (!isDoc(raw)) throw r.wrongType('settings', raw, 'object');
  const s = {
    chainingAllowed: r.bool(raw, 'chainingAllowed') ?? DEFAULT_SETTINGS.chainingAllowed,
    heartbeatIntervalMillis:
      r.number(raw, 'heartbeatIntervalMillis', false) ?? DEFAULT_SETTINGS.heartbeatIntervalMillis,
    heartbeatTimeoutSecs:
      r.number(raw, 'heartbeatTimeoutSecs', false) ?? DEFAULT_SETTINGS.heartbeatTimeoutSecs,
    electionTimeoutMillis:
      r.number(raw, 'electionTimeoutMillis', false) ?? DEFAULT_SETTINGS.electionTimeoutMillis,
    catchUpTimeoutMillis:
      r.number(raw, 'catchUpTimeoutMillis', false) ?? DEFAULT_SETTINGS.catchUpTimeoutMillis,
    catchUpTakeoverDelayMillis:
      r.number(raw, 'catchUpTakeoverDelayMillis', false) ?? DEFAULT_SETTINGS.catchUpTakeoverDelayMillis,
    getLastErrorModes: isDoc(raw.getLastErrorModes) ? raw.getLastErrorModes : {},
    getLastErrorDefaults: isDoc(raw.getLastErrorDefaults) ? raw.getLastErrorDefaults : { w: 1, wtimeout: 0 },
    replicaSetId: raw.replicaSetId instanceof ObjectId ? raw.replicaSetId : null,
  };
  if (raw.replicaSetId !== undefined && !(raw.replicaSetId instanceof ObjectId)) {
    throw r.wrongType('replicaSetId', raw.replicaSetId, 'objectId');
  }
  if (s.heartbeatIntervalMillis < 0) {
    throw new ConfigError(
      BAD_VALUE,
      `settings.heartbeatIntervalMillis field value must be non-negative, but found ${s.heartbeatIntervalMillis}`,
    );
  }
  if (s.electionTimeoutMillis < 0) {
    throw new ConfigError(
      BAD_VALUE,
      `settings.electionTimeoutMillis field value must be non-negative, but found ${s.electionTimeoutMillis}`,
    );
  }
  if (s.heartbeatTimeoutSecs < 0) {
    throw new ConfigError(
      BAD_VALUE,
      `settings.heartbeatTimeoutSecs field value must be non-negative, but found ${s.heartbeatTimeoutSecs}`,
    );
  }
  if (s.catchUpTimeoutMillis < -1) {
    throw new ConfigError(
      BAD_VALUE,
      `settings.catchUpTimeoutMillis field value must be -1 or non-negative, but found ${s.catchUpTimeoutMillis}`,
    );
  }
  return s;
}

/** Parses a config document. Only shape and per-member rules here; whole-set rules are in validateConfig. */
/**
 * `lenient` is for configs written by another member or an older binary (heartbeats, local.system.replset
 * during a rolling upgrade): fields of other versions are accepted instead of refused.
 */
export function parseConfig(raw: unknown, features: ReplFeatures, lenient = false): ReplSetConfig {
  const r = new FieldReader(features, 'ReplSetConfig', 'replica set configuration');
  if (!isDoc(raw)) throw r.wrongType('config', raw, 'object');
  if (!lenient)
    r.checkFields(raw, [
      '_id',
      'version',
      'protocolVersion',
      'members',
      'settings',
      'configsvr',
      'writeConcernMajorityJournalDefault',
      ...(features.configTerm ? ['term'] : []),
    ]);
  const setName = r.string(raw, '_id', true);
  const version = r.number(raw, 'version', true);
  const term = features.configTerm ? (r.number(raw, 'term', false) ?? -1) : -1;
  const protocolVersion = r.number(raw, 'protocolVersion', false) ?? 1;
  const members = raw.members;
  if (members === undefined) throw r.missing('members');
  if (!Array.isArray(members)) throw r.wrongType('members', members, 'array');
  return {
    setName,
    version,
    term,
    protocolVersion,
    writeConcernMajorityJournalDefault: r.bool(raw, 'writeConcernMajorityJournalDefault') ?? true,
    configsvr: r.bool(raw, 'configsvr') ?? false,
    members: members.map((m, i) => parseMember(m, i, features, lenient)),
    settings: parseSettings(raw.settings, features),
  };
}

/** What the validating process is: a config server (--configsvr), allowMultipleArbiters set. */
export interface ValidationContext {
  readonly configsvr: boolean;
  readonly allowMultipleArbiters: boolean;
}

const PLAIN_PROCESS: ValidationContext = { configsvr: false, allowMultipleArbiters: false };

/** Whole-config rules (ReplSetConfig::validate; reference §3.2). */
export function validateConfig(
  config: ReplSetConfig,
  features: ReplFeatures,
  ctx: ValidationContext = PLAIN_PROCESS,
): void {
  if (config.version <= 0 || config.version >= 2 ** 31 || !Number.isInteger(config.version)) {
    throw new ConfigError(BAD_VALUE, `version field value of ${config.version} is out of range`);
  }
  if (config.protocolVersion === 0) {
    throw new ConfigError(
      BAD_VALUE,
      'Support for replication protocol version 0 was removed in MongoDB 4.0. Downgrade to MongoDB version 3.6 and upgrade your protocol version to 1 before upgrading your MongoDB version',
    );
  }
  if (config.protocolVersion !== 1) {
    throw new ConfigError(BAD_VALUE, `protocolVersion field value of ${config.protocolVersion} is not 1`);
  }
  const n = config.members.length;
  if (n === 0 || n > MAX_MEMBERS) {
    throw new ConfigError(
      BAD_VALUE,
      `Replica set configuration contains ${n} members, but must have at least 1 and no more than  ${MAX_MEMBERS}`,
    );
  }
  let voters = 0;
  let electable = 0;
  let arbiters = 0;
  let localhosts = 0;
  for (let i = 0; i < n; i++) {
    const mi = config.members[i] as MemberConfig;
    if (mi.votes > 0) voters++;
    if (isElectableConfig(mi)) electable++;
    if (mi.arbiterOnly) arbiters++;
    if (isLocalHostName(mi.host)) localhosts++;
    for (let j = i + 1; j < n; j++) {
      const mj = config.members[j] as MemberConfig;
      if (mi.id === mj.id) {
        throw new ConfigError(
          BAD_VALUE,
          `Found two member configurations with same _id field, members.${i}._id == members.${j}._id == ${mi.id}`,
        );
      }
      if (mi.host === mj.host) {
        throw new ConfigError(
          BAD_VALUE,
          `Found two member configurations with same host field, members.${i}.host == members.${j}.host == ${mi.host}`,
        );
      }
    }
  }
  if (localhosts !== 0 && localhosts !== n) {
    throw new ConfigError(
      BAD_VALUE,
      `Either all host names in a replica set configuration must be localhost references, or none must be; found ${localhosts} out of ${n}`,
    );
  }
  if (voters === 0 || voters > MAX_VOTING_MEMBERS) {
    throw new ConfigError(
      BAD_VALUE,
      `Replica set configuration contains ${voters} voting members, but must be at least 1 and no more than ${MAX_VOTING_MEMBERS}`,
    );
  }
  if (electable === 0) {
    throw new ConfigError(
      BAD_VALUE,
      'Replica set configuration must contain at least one non-arbiter member with priority > 0',
    );
  }
  if (config.configsvr) {
    if (!ctx.configsvr) {
      throw new ConfigError(
        BAD_VALUE,
        'Nodes being used for config servers must be started with the --configsvr flag',
      );
    }
    if (arbiters > 0) {
      throw new ConfigError(
        BAD_VALUE,
        'Arbiters are not allowed in replica set configurations being used for config servers',
      );
    }
    for (const m of config.members) {
      if (m.secondaryDelaySecs > 0) {
        throw new ConfigError(
          BAD_VALUE,
          `Members being used for config servers cannot have a non-zero ${features.delayField}`,
        );
      }
      if (!m.buildIndexes) {
        throw new ConfigError(BAD_VALUE, 'Members being used for config servers must build indexes');
      }
    }
  } else if (ctx.configsvr) {
    throw new ConfigError(
      BAD_VALUE,
      'Nodes started with the --configsvr flag must have configsvr:true in their config',
    );
  }
  if (arbiters > 1 && features.multipleArbitersNeedParameter && !ctx.allowMultipleArbiters) {
    throw new ConfigError(
      BAD_VALUE,
      "Multiple arbiters are not allowed unless all nodes were started with with --setParameter 'allowMultipleArbiters=true'",
    );
  }
}

export function isElectableConfig(m: MemberConfig): boolean {
  return !m.arbiterOnly && m.priority > 0 && !m.newlyAdded;
}

export function isVoter(m: MemberConfig): boolean {
  return m.votes > 0 && !m.newlyAdded;
}

export function isDataBearing(m: MemberConfig): boolean {
  return !m.arbiterOnly;
}

/** Voting members count (majorityVoteCount base). */
export function votingMembers(config: ReplSetConfig): MemberConfig[] {
  return config.members.filter(isVoter);
}

export function majorityVoteCount(config: ReplSetConfig): number {
  return Math.floor(votingMembers(config).length / 2) + 1;
}

/** Voting data-bearing members: the members whose optimes count towards w:"majority" (§3.4). */
export function writableVotingMembers(config: ReplSetConfig): MemberConfig[] {
  return config.members.filter((m) => isVoter(m) && !m.arbiterOnly);
}

export function writeMajorityCount(config: ReplSetConfig): number {
  return Math.min(majorityVoteCount(config), writableVotingMembers(config).length);
}

function memberToBson(m: MemberConfig, features: ReplFeatures, omitNewlyAdded: boolean): Doc {
  const doc: Doc = {
    _id: new Int32(m.id),
    host: m.host,
    arbiterOnly: m.arbiterOnly,
  };
  if (m.newlyAdded && !omitNewlyAdded) doc.newlyAdded = true;
  doc.buildIndexes = m.buildIndexes;
  doc.hidden = m.hidden;
  doc.priority = new Double(m.priority);
  doc.tags = { ...m.tags };
  doc[features.delayField] = Long.fromNumber(m.secondaryDelaySecs);
  doc.votes = new Int32(m.votes);
  return doc;
}

function settingsToBson(s: ReplSetSettings): Doc {
  const doc: Doc = {
    chainingAllowed: s.chainingAllowed,
    heartbeatIntervalMillis: new Int32(s.heartbeatIntervalMillis),
    heartbeatTimeoutSecs: new Int32(s.heartbeatTimeoutSecs),
    electionTimeoutMillis: new Int32(s.electionTimeoutMillis),
    catchUpTimeoutMillis: new Int32(s.catchUpTimeoutMillis),
    catchUpTakeoverDelayMillis: new Int32(s.catchUpTakeoverDelayMillis),
    getLastErrorModes: { ...s.getLastErrorModes },
    getLastErrorDefaults: { ...s.getLastErrorDefaults },
  };
  if (s.replicaSetId) doc.replicaSetId = s.replicaSetId;
  return doc;
}

/**
 * The fully defaulted document of replSetGetConfig and local.system.replset, in the version's field order.
 * replSetGetConfig leaves `newlyAdded` out (4.4+) unless asked with $_internalIncludeNewlyAdded.
 */
export function configToBson(c: ReplSetConfig, features: ReplFeatures, omitNewlyAdded = false): Doc {
  const members = c.members.map((m) => memberToBson(m, features, omitNewlyAdded));
  const doc: Doc = { _id: c.setName, version: new Int32(c.version) };
  if (features.configTerm) {
    if (c.term !== -1) doc.term = new Int32(c.term);
    doc.members = members;
    if (c.configsvr) doc.configsvr = true;
    doc.protocolVersion = Long.fromNumber(c.protocolVersion);
    doc.writeConcernMajorityJournalDefault = c.writeConcernMajorityJournalDefault;
  } else {
    if (c.configsvr) doc.configsvr = true;
    doc.protocolVersion = Long.fromNumber(c.protocolVersion);
    doc.writeConcernMajorityJournalDefault = c.writeConcernMajorityJournalDefault;
    doc.members = members;
  }
  doc.settings = settingsToBson(c.settings);
  return doc;
}

/**
 * 4.4+ reconfig: a voting member that was not in the old config joins as `newlyAdded` (no vote, not
 * electable) until it is SECONDARY; members still newlyAdded in the old config keep the flag (§3.6).
 */
export function markNewlyAdded(oldConfig: ReplSetConfig, newConfig: ReplSetConfig): ReplSetConfig {
  const members = newConfig.members.map((m) => {
    if (m.arbiterOnly || m.votes === 0) return m;
    const old = oldConfig.members.find((o) => o.id === m.id);
    if (!old || old.newlyAdded) return { ...m, newlyAdded: true };
    return m;
  });
  return { ...newConfig, members };
}

export function withVersionAndTerm(c: ReplSetConfig, version: number, term: number): ReplSetConfig {
  return { ...c, version, term };
}

export function withReplicaSetId(c: ReplSetConfig, id: ObjectId): ReplSetConfig {
  return { ...c, settings: { ...c.settings, replicaSetId: id } };
}

export function findMemberByHost(c: ReplSetConfig, host: string): number {
  return c.members.findIndex((m) => m.host === host);
}

/** "{version: 1, term: 0}" as 4.4+ prints a config's identity. */
export function versionAndTermString(version: number, term: number): string {
  return `{version: ${version}, term: ${term}}`;
}
