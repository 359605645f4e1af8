// The server entries of a checked topology as one list, with the facts both the rules and the resolver need:
// role, replica set, locality and MongoDB's defaults for member options.

import { isLocalHost } from './hosts.js';
import type { MongodServerSpec, MongosServerSpec, TopologySpec } from './schema.js';
import type { MemberOptions, Role, TopologyKind } from './types.js';

export type Section = 'config_servers' | 'mongod_servers' | 'mongos_servers';

export interface ServerEntry {
  section: Section;
  index: number;
  role: Role;
  host: string;
  /** As written: 0 means "allocate". */
  port: number;
  local: boolean;
  replicaSet: string | undefined;
  /** Present for config and mongod entries. */
  mongod: MongodServerSpec | undefined;
  spec: MongodServerSpec | MongosServerSpec;
}

/** Topology order used everywhere (port allocation, resolved instances): config servers, mongod, mongos. */
export function listServers(spec: TopologySpec): ServerEntry[] {
  const entries: ServerEntry[] = [];
  const addMongod = (section: Section, role: Role, list: readonly MongodServerSpec[] | undefined) => {
    (list ?? []).forEach((server, index) => {
      entries.push({
        section,
        index,
        role,
        host: server.host,
        port: server.port,
        local: isLocalHost(server.host),
        replicaSet: server.replica_set,
        mongod: server,
        spec: server,
      });
    });
  };
  addMongod('config_servers', 'config', spec.config_servers);
  addMongod('mongod_servers', 'mongod', spec.mongod_servers);
  (spec.mongos_servers ?? []).forEach((server, index) => {
    entries.push({
      section: 'mongos_servers',
      index,
      role: 'mongos',
      host: server.host,
      port: server.port,
      local: isLocalHost(server.host),
      replicaSet: undefined,
      mongod: undefined,
      spec: server,
    });
  });
  return entries;
}

/** sharded when there are config servers; otherwise replset when any mongod names a replica set. */
export function kindOf(spec: TopologySpec): TopologyKind {
  if ((spec.config_servers ?? []).length > 0) return 'sharded';
  if ((spec.mongod_servers ?? []).some((server) => server.replica_set !== undefined)) return 'replset';
  return 'standalone';
}

export const MEMBER_OPTION_KEYS = [
  'priority',
  'votes',
  'hidden',
  'arbiter_only',
  'secondary_delay_secs',
  'tags',
  'build_indexes',
] as const;

/**
 * Member options with MongoDB's defaults, except that priority defaults to 0 (not 1) for members that
 * MongoDB requires to have priority 0 — arbiters, hidden, delayed, non-voting and no-index members — so
 * `hidden: true` alone is enough.
 */
export function memberOptionsOf(server: MongodServerSpec): MemberOptions {
  const arbiterOnly = server.arbiter_only ?? false;
  const votes = server.votes ?? 1;
  const hidden = server.hidden ?? false;
  const secondaryDelaySecs = server.secondary_delay_secs ?? 0;
  const buildIndexes = server.build_indexes ?? true;
  const passive = arbiterOnly || hidden || secondaryDelaySecs > 0 || votes === 0 || !buildIndexes;
  return {
    priority: server.priority ?? (passive ? 0 : 1),
    votes,
    hidden,
    arbiterOnly,
    secondaryDelaySecs,
    buildIndexes,
    tags: server.tags ?? {},
  };
}

/** A member that can become primary: holds data and has priority > 0 (which the rules tie to votes: 1). */
export function isElectable(options: MemberOptions): boolean {
  return !options.arbiterOnly && options.priority > 0 && options.votes === 1;
}

export function pathOf(entry: ServerEntry): [Section, number] {
  return [entry.section, entry.index];
}
