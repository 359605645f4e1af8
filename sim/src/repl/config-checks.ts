// Checks that depend on context (which node runs them, the previous config): replSetInitiate and
// replSetReconfig validation (reference §3.3, §3.6; repl_set_config_checks.cpp).
import {
  ConfigError,
  isElectableConfig,
  isVoter,
  type ReplSetConfig,
  type ValidationContext,
  validateConfig,
  versionAndTermString,
} from './config.js';
import type { ReplFeatures } from './features.js';

const INVALID = 93;
const INCOMPATIBLE = 103;
const NODE_NOT_FOUND = 74;
// 104 NodeNotElectable (error_codes.yml); replSetInitiate wraps it as 93 like every initiate error.
const NODE_NOT_ELECTABLE = 104;

/** (version, term) comparison: when either term is -1 (unset, or a force reconfig), only versions count. */
export function compareVersionAndTerm(
  a: { version: number; term: number },
  b: { version: number; term: number },
) {
  if (a.term !== -1 && b.term !== -1 && a.term !== b.term) return a.term < b.term ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return 0;
}

function identity(c: ReplSetConfig, features: ReplFeatures): string {
  return features.configTerm ? `with ${versionAndTermString(c.version, c.term)}` : `${c.version}`;
}

/** Index of this node in the config, or the real errors when it is absent or listed twice. */
export function findSelf(
  config: ReplSetConfig,
  isSelf: (host: string) => boolean,
  features: ReplFeatures,
): number {
  const mine = config.members.map((m, i) => (isSelf(m.host) ? i : -1)).filter((i) => i >= 0);
  if (mine.length === 0) {
    throw new ConfigError(
      NODE_NOT_FOUND,
      `No host described in new configuration ${identity(config, features)} for replica set ${config.setName} maps to this node`,
    );
  }
  if (mine.length > 1) {
    const hosts = mine.map((i) => config.members[i]?.host ?? '');
    const last = hosts.pop();
    throw new ConfigError(
      INVALID,
      `The hosts ${hosts.join(', ')} and ${last} all map to this node in new configuration ${identity(config, features)} for replica set ${config.setName}`,
    );
  }
  return mine[0] as number;
}

export function checkElectable(config: ReplSetConfig, index: number, features: ReplFeatures): void {
  const m = config.members[index];
  if (m && !isElectableConfig(m)) {
    throw new ConfigError(
      NODE_NOT_ELECTABLE,
      `This node, ${m.host}, with _id ${m.id} is not electable under the new configuration ${identity(config, features)} for replica set ${config.setName}`,
    );
  }
}

function validateArbiterPriorities(config: ReplSetConfig): void {
  for (const m of config.members) {
    if (m.arbiterOnly && m.priority !== 0) {
      throw new ConfigError(
        INVALID,
        `Member ${m.host} is an arbiter but has priority ${m.priority}. Arbiter priority must be 0.`,
      );
    }
  }
}

function customizedGetLastErrorDefaults(config: ReplSetConfig): boolean {
  const d = config.settings.getLastErrorDefaults;
  const keys = Object.keys(d);
  const w = d.w;
  const wtimeout = d.wtimeout;
  return !(
    keys.every((k) => k === 'w' || k === 'wtimeout') &&
    (w === undefined || Number(w) === 1) &&
    (wtimeout === undefined || Number(wtimeout) === 0)
  );
}

/**
 * validateConfigForInitiate: whole-config rules, arbiter priorities, no newlyAdded, version 1, initial term,
 * self present once and electable. Returns this node's index. Callers wrap any error as 93.
 */
export function validateForInitiate(
  config: ReplSetConfig,
  isSelf: (host: string) => boolean,
  features: ReplFeatures,
  ctx?: ValidationContext,
): number {
  validateConfig(config, features, ctx);
  if (features.major >= 5 && customizedGetLastErrorDefaults(config)) {
    // §3.3: real mongod fasserts (5624101); a process crash helps nobody, so answer 93 with its text.
    throw new ConfigError(
      INVALID,
      'Failed to initiate: Replica set config contains customized getLastErrorDefaults, which has been deprecated and is now ignored. Use setDefaultRWConcern instead to set a cluster-wide default writeConcern.',
    );
  }
  validateArbiterPriorities(config);
  for (const m of config.members) {
    if (m.newlyAdded) {
      throw new ConfigError(
        INVALID,
        `Member ${m.host}, with _id ${m.id}, has a newlyAdded field, which is not valid for initial configuration of a replica set.`,
      );
    }
  }
  if (config.version !== 1) {
    throw new ConfigError(
      INCOMPATIBLE,
      `Configuration used to initiate a replica set must  have version 1, but found ${config.version}`,
    );
  }
  if (features.configTerm && config.term !== 0) {
    throw new ConfigError(
      INCOMPATIBLE,
      `Configuration used to initiate a replica set must have term 0, but found ${config.term}`,
    );
  }
  if (config.settings.replicaSetId !== null) {
    throw new ConfigError(
      INVALID,
      "replica set configuration cannot contain 'replicaSetId' settings field when called from replSetInitiate",
    );
  }
  const self = findSelf(config, isSelf, features);
  checkElectable(config, self, features);
  return self;
}

/** validateConfigForReconfig (§3.6). The caller applies the primary/term rules before calling. */
export function validateForReconfig(
  oldConfig: ReplSetConfig,
  newConfig: ReplSetConfig,
  force: boolean,
  features: ReplFeatures,
  ctx?: ValidationContext,
): void {
  validateConfig(newConfig, features, ctx);
  if (features.major >= 5 && customizedGetLastErrorDefaults(newConfig)) {
    throw new ConfigError(
      5624102,
      'Failed to reconfig: Replica set config contains customized getLastErrorDefaults, which has been deprecated and is now ignored. Use setDefaultRWConcern instead to set a cluster-wide default writeConcern.',
    );
  }
  if (!force && compareVersionAndTerm(oldConfig, newConfig) >= 0) {
    throw new ConfigError(
      INCOMPATIBLE,
      features.configTerm
        ? `New replica set configuration version and term must be greater than old, but ${versionAndTermString(newConfig.version, newConfig.term)} is not greater than ${versionAndTermString(oldConfig.version, oldConfig.term)} for replica set ${newConfig.setName}`
        : `New replica set configuration version must be greater than old, but ${newConfig.version} is not greater than ${oldConfig.version} for replica set ${newConfig.setName}`,
    );
  }
  if (oldConfig.setName !== newConfig.setName) {
    throw new ConfigError(
      INCOMPATIBLE,
      `New and old configurations differ in replica set name; old was ${oldConfig.setName}, and new is ${newConfig.setName}`,
    );
  }
  const oldId = oldConfig.settings.replicaSetId;
  const newId = newConfig.settings.replicaSetId;
  if (oldId && newId && !oldId.equals(newId)) {
    throw new ConfigError(
      INCOMPATIBLE,
      `New and old configurations differ in replica set ID; old was ${oldId.toHexString()}, and new is ${newId.toHexString()}`,
    );
  }
  if (oldConfig.configsvr && !newConfig.configsvr) {
    throw new ConfigError(
      INCOMPATIBLE,
      'Cannot remove "configsvr" from replica set configuration on reconfig',
    );
  }
  for (const mNew of newConfig.members) {
    for (const mOld of oldConfig.members) {
      const idsEqual = mOld.id === mNew.id;
      const hostsEqual = mOld.host === mNew.host;
      if (!idsEqual && !hostsEqual) continue;
      if (hostsEqual && !idsEqual) {
        throw new ConfigError(
          INCOMPATIBLE,
          `New and old configurations both have members with host of ${mOld.host} but in the new configuration the _id field is ${mNew.id} and in the old configuration it is ${mOld.id} for replica set ${newConfig.setName}`,
        );
      }
      if (!hostsEqual) continue;
      if (mOld.buildIndexes !== mNew.buildIndexes) {
        throw new ConfigError(
          INCOMPATIBLE,
          `New and old configurations differ in the setting of the buildIndexes field for member ${mOld.host}; to make this change, remove then re-add the member`,
        );
      }
      if (mOld.arbiterOnly !== mNew.arbiterOnly) {
        throw new ConfigError(
          INCOMPATIBLE,
          `New and old configurations differ in the setting of the arbiterOnly field for member ${mOld.host}; to make this change, remove then re-add the member`,
        );
      }
    }
  }
  if (!force && features.oneVoterChange) {
    const oldVoters = new Set(oldConfig.members.filter(isVoter).map((m) => m.id));
    const newVoters = new Set(newConfig.members.filter(isVoter).map((m) => m.id));
    let diff = 0;
    for (const id of oldVoters) if (!newVoters.has(id)) diff++;
    for (const id of newVoters) if (!oldVoters.has(id)) diff++;
    if (diff > 1) {
      throw new ConfigError(
        INVALID,
        'Non force replica set reconfig can only add or remove at most 1 voting member.',
      );
    }
  }
  validateArbiterPriorities(newConfig);
}
