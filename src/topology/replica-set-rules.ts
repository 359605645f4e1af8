// Replica-set rules MongoDB enforces at replSetInitiate (mongod source: src/mongo/db/repl/repl_set_config.cpp and
// member_config.cpp): set size, voters, member option combinations, arbiters, localhost references, write
// concern modes. Config server sets add their own restrictions.
import { formatPath, type IssuePath, type TopologyIssue } from './issues.js';
import type { MongodServerSpec, TopologySpec } from './schema.js';
import { isElectable, memberOptionsOf, pathOf, type ServerEntry } from './servers.js';

// MongoDB limits (repl_set_config.cpp): at most 50 members and 7 voting members.
const MAX_MEMBERS = 50;
const MAX_VOTERS = 7;
// Replica set names end up in connection strings (`rs0/h:p`) and supervisord group names.
const SET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
// The name is also a shard name and part of every member's connection string; mup keeps it short like a
// database name (MongoDB: at most 64 characters).
const MAX_SET_NAME = 64;

export function checkSetNames(servers: readonly ServerEntry[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const reported = new Set<string>();
  for (const server of servers) {
    const name = server.replicaSet;
    if (name === undefined || reported.has(name)) continue;
    if (name.length > MAX_SET_NAME) {
      reported.add(name);
      issues.push({
        path: [...pathOf(server), 'replica_set'],
        message: `is ${name.length} characters long; at most ${MAX_SET_NAME} (replica set name)`,
      });
      continue;
    }
    if (SET_NAME.test(name)) continue;
    reported.add(name);
    const shown = JSON.stringify(name);
    issues.push({
      path: [...pathOf(server), 'replica_set'],
      message: `${shown} may contain only letters, digits, "_", "-" and "." (replica set name)`,
    });
  }
  return issues;
}

interface ReplicaSetGroup {
  name: string;
  isConfig: boolean;
  members: ServerEntry[];
}

export function groupReplicaSets(servers: readonly ServerEntry[]): ReplicaSetGroup[] {
  const groups = new Map<string, ReplicaSetGroup>();
  for (const server of servers) {
    if (server.replicaSet === undefined || server.mongod === undefined) continue;
    // A name used by both sections is reported by checkKind; keep the two groups apart here.
    const key = `${server.role}:${server.replicaSet}`;
    let group = groups.get(key);
    if (!group) {
      group = { name: server.replicaSet, isConfig: server.role === 'config', members: [] };
      groups.set(key, group);
    }
    group.members.push(server);
  }
  return [...groups.values()];
}

export function checkReplicaSet(set: ReplicaSetGroup, spec: TopologySpec): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const where = set.isConfig ? 'config server replica set' : `replica set "${set.name}"`;
  if (set.members.length > MAX_MEMBERS) {
    const extra = set.members[MAX_MEMBERS] as ServerEntry;
    issues.push({
      path: pathOf(extra),
      message: `${where} has ${set.members.length} members; MongoDB allows at most ${MAX_MEMBERS} (replica set size)`,
    });
  }
  let firstArbiter: ServerEntry | undefined;
  let voters = 0;
  let electable = false;
  for (const member of set.members) {
    const server = member.mongod as MongodServerSpec;
    const options = memberOptionsOf(server);
    issues.push(...checkMember(member, server, set.isConfig));
    if (options.arbiterOnly) {
      if (firstArbiter && !set.isConfig) {
        issues.push({
          path: [...pathOf(member), 'arbiter_only'],
          message: `${where} already has an arbiter (${formatPath(pathOf(firstArbiter))}); MongoDB allows one (arbiters)`,
          atKey: true,
        });
      }
      firstArbiter ??= member;
    }
    if (options.votes === 1) {
      voters++;
      if (voters === MAX_VOTERS + 1) {
        const total = set.members.filter(
          (m) => memberOptionsOf(m.mongod as MongodServerSpec).votes === 1,
        ).length;
        issues.push({
          path: pathOf(member),
          message: `${where} has ${total} voting members; MongoDB allows at most ${MAX_VOTERS}: give the others votes: 0 (voting members)`,
        });
      }
    }
    if (isElectable(options)) electable = true;
  }
  const first = set.members[0] as ServerEntry;
  if (!electable) {
    issues.push({
      path: pathOf(first),
      message: `${where} has no member that can become primary: one data-bearing member needs priority > 0 (electable member)`,
    });
  }
  if (!set.isConfig) {
    const mixed = set.members.find((m) => m.local !== first.local);
    if (mixed) {
      issues.push({
        path: [...pathOf(mixed), 'host'],
        message: `${mixed.host} is ${mixed.local ? 'local' : 'remote'} but ${first.host} is ${first.local ? 'local' : 'remote'}; MongoDB wants all members of a replica set to be localhost addresses or none (localhost references)`,
      });
    }
  }
  issues.push(...checkWriteConcernModes(set, spec));
  return issues;
}

/** Member option rules of MongoDB's member_config.cpp, one priority complaint per member at most. */
function checkMember(member: ServerEntry, server: MongodServerSpec, inConfigSet: boolean): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const at = (key: string): IssuePath => [...pathOf(member), key];
  const options = memberOptionsOf(server);
  const explicitPriority = server.priority !== undefined && server.priority > 0;
  if (inConfigSet) {
    if (options.arbiterOnly) {
      issues.push({
        path: at('arbiter_only'),
        message: 'config server replica sets cannot have arbiters (config server replica set)',
      });
    }
    if (options.secondaryDelaySecs > 0) {
      issues.push({
        path: at('secondary_delay_secs'),
        message: 'config server replica sets cannot have delayed members (config server replica set)',
      });
    }
    if (!options.buildIndexes) {
      issues.push({
        path: at('build_indexes'),
        message: 'config servers must build indexes (config server replica set)',
      });
    }
  }
  if (options.arbiterOnly) {
    if (server.votes === 0) issues.push({ path: at('votes'), message: 'an arbiter must vote (arbiter)' });
    if (explicitPriority) {
      issues.push({
        path: at('priority'),
        message: 'an arbiter cannot become primary: priority must be 0 (arbiter)',
      });
    }
    if (server.tags !== undefined && Object.keys(server.tags).length > 0) {
      issues.push({ path: at('tags'), message: 'an arbiter holds no data and cannot have tags (arbiter)' });
    }
    for (const key of ['hidden', 'secondary_delay_secs', 'build_indexes'] as const) {
      const dataOption =
        (key === 'hidden' && options.hidden) ||
        (key === 'secondary_delay_secs' && options.secondaryDelaySecs > 0) ||
        (key === 'build_indexes' && !options.buildIndexes);
      if (dataOption) {
        issues.push({ path: at(key), message: `an arbiter holds no data; ${key} does not apply (arbiter)` });
      }
    }
    return issues;
  }
  if (options.secondaryDelaySecs > 0 && !options.hidden) {
    issues.push({
      path: at('secondary_delay_secs'),
      message: 'a delayed member must be hidden: add hidden: true (delayed member)',
    });
  }
  if (explicitPriority) {
    const reason = options.hidden
      ? 'a hidden member must have priority 0 (hidden member)'
      : options.secondaryDelaySecs > 0
        ? 'a delayed member must have priority 0 (delayed member)'
        : options.votes === 0
          ? 'a non-voting member (votes: 0) must have priority 0 (non-voting member)'
          : !options.buildIndexes
            ? 'a member with build_indexes: false must have priority 0 (build_indexes)'
            : undefined;
    if (reason) issues.push({ path: at('priority'), message: reason });
  }
  return issues;
}

/** getLastErrorModes must be satisfiable by the members' tags, and a named default w must exist. */
function checkWriteConcernModes(set: ReplicaSetGroup, spec: TopologySpec): TopologyIssue[] {
  const settings = spec.replica_set_settings?.[set.name];
  if (!settings) return [];
  const issues: TopologyIssue[] = [];
  const base = ['replica_set_settings', set.name];
  const tagged = set.members
    .map((m) => memberOptionsOf(m.mongod as MongodServerSpec))
    .filter((options) => !options.arbiterOnly);
  const modes = settings.getLastErrorModes ?? {};
  for (const [mode, requirement] of Object.entries(modes)) {
    for (const [tag, count] of Object.entries(requirement)) {
      const values = new Set(tagged.map((o) => o.tags[tag]).filter((v) => v !== undefined));
      if (values.size < count) {
        issues.push({
          path: [...base, 'getLastErrorModes', mode, tag],
          message: `needs ${count} members with different values of tag "${tag}", but the set has ${values.size} (write concern mode)`,
        });
      }
    }
  }
  const w = settings.getLastErrorDefaults?.w;
  if (typeof w === 'string' && w !== 'majority' && !(w in modes)) {
    issues.push({
      path: [...base, 'getLastErrorDefaults', 'w'],
      message: `"${w}" is neither "majority" nor a mode of getLastErrorModes (write concern)`,
    });
  }
  if (typeof w === 'number') {
    const dataBearing = tagged.length;
    if (w > dataBearing) {
      issues.push({
        path: [...base, 'getLastErrorDefaults', 'w'],
        message: `asks for ${w} acknowledgements but the set has ${dataBearing} data-bearing members (write concern)`,
      });
    }
  }
  return issues;
}
