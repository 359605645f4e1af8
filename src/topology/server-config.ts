// mongod/mongos config fragments from the topology (`server_configs.*` and per-instance `config`): dotted keys
// are expanded into nested mappings, settings mup must own are refused, and the role's fragment is
// deep-merged with the instance's own.
import { formatPath, type IssuePath, type TopologyIssue } from './issues.js';

export type ConfigObject = Record<string, unknown>;

/** Settings mup derives from the topology; a user value would break supervision or the cluster layout. */
const OWNED_KEYS: readonly { key: string; why: string }[] = [
  { key: 'net.port', why: 'it comes from the port of the server entry' },
  { key: 'storage.dbPath', why: 'it comes from data_dir' },
  { key: 'replication.replSetName', why: 'it comes from replica_set' },
  { key: 'sharding.clusterRole', why: 'it comes from the section the server is listed in' },
  { key: 'sharding.configDB', why: 'it comes from config_servers' },
  { key: 'processManagement.fork', why: 'processes run in the foreground under supervisord' },
  { key: 'processManagement.pidFilePath', why: 'it is placed in the deploy dir' },
  { key: 'systemLog.path', why: 'it comes from log_dir' },
  { key: 'systemLog.destination', why: 'mup always logs to the file in log_dir' },
];

/** mongos has no storage and no replication options: it exits with "Unrecognized option" (exit 2). */
const MONGOS_FORBIDDEN_SECTIONS = ['storage', 'replication'];

interface Leaf {
  keys: string[];
  source: IssuePath;
  value: unknown;
}

export function isPlainObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function collectLeaves(
  config: ConfigObject,
  keys: string[],
  source: IssuePath,
  issues: TopologyIssue[],
): Leaf[] {
  const leaves: Leaf[] = [];
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    const here = [...source, key];
    if (parts.some((part) => part === '')) {
      issues.push({
        path: here,
        message: 'a dotted key must not have empty parts (dotted key)',
        atKey: true,
      });
      continue;
    }
    const nested = [...keys, ...parts];
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      leaves.push(...collectLeaves(value, nested, here, issues));
    } else {
      leaves.push({ keys: nested, source: here, value });
    }
  }
  return leaves;
}

function startsWith(keys: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= keys.length && prefix.every((part, i) => keys[i] === part);
}

/**
 * Expands dotted keys (`storage.wiredTiger.engineConfig.cacheSizeGB: 1`) into nested mappings and reports
 * keys mup owns, keys set twice, and (for mongos) sections mongos does not have.
 * `source` is the fragment's path in the topology, used to point at the offending key.
 */
export function expandServerConfig(
  config: ConfigObject,
  source: IssuePath,
  process: 'mongod' | 'mongos',
): { config: ConfigObject; issues: TopologyIssue[] } {
  const issues: TopologyIssue[] = [];
  const leaves = collectLeaves(config, [], source, issues);
  const result: ConfigObject = {};
  const setAt = new Map<string, IssuePath>();
  for (const leaf of leaves) {
    const owned = OWNED_KEYS.find(({ key }) => startsWith(leaf.keys, key.split('.')));
    if (owned) {
      issues.push({
        path: leaf.source,
        message: `mup owns ${owned.key}: ${owned.why} (mup-owned key)`,
        atKey: true,
      });
      continue;
    }
    const section = leaf.keys[0] ?? '';
    if (process === 'mongos' && MONGOS_FORBIDDEN_SECTIONS.includes(section)) {
      issues.push({
        path: leaf.source,
        message: `mongos has no ${section} options; it would refuse to start (mongos options)`,
        atKey: true,
      });
      continue;
    }
    const ownedInside = OWNED_KEYS.find(({ key }) => startsWith(key.split('.'), leaf.keys));
    if (ownedInside && !isPlainObject(leaf.value)) {
      issues.push({
        path: leaf.source,
        message: `must be a mapping: it holds ${ownedInside.key}, which mup sets (config section)`,
      });
      continue;
    }
    const conflict = place(result, leaf, setAt);
    if (conflict) {
      const first = formatPath(conflict);
      const where = first === formatPath(leaf.source) ? 'in another form (dotted and nested)' : `at ${first}`;
      issues.push({
        path: leaf.source,
        message: `${leaf.keys.join('.')} is already set ${where} (duplicate config key)`,
        atKey: true,
      });
    }
  }
  return { config: result, issues };
}

/** Puts a leaf into the nested result; returns the source of an earlier conflicting setting, if any. */
function place(result: ConfigObject, leaf: Leaf, setAt: Map<string, IssuePath>): IssuePath | undefined {
  let target = result;
  for (let i = 0; i < leaf.keys.length - 1; i++) {
    const key = leaf.keys[i] as string;
    const prefix = leaf.keys.slice(0, i + 1).join('.');
    const existing = target[key];
    if (existing === undefined) {
      const created: ConfigObject = {};
      target[key] = created;
      target = created;
    } else if (isPlainObject(existing)) {
      target = existing;
    } else {
      return setAt.get(prefix) ?? [];
    }
  }
  const last = leaf.keys[leaf.keys.length - 1] as string;
  const full = leaf.keys.join('.');
  const existing = target[last];
  if (existing !== undefined) {
    // Two empty mappings for the same section are harmless; anything else is set twice.
    const bothEmpty =
      isPlainObject(existing) && isPlainObject(leaf.value) && Object.keys(existing).length === 0;
    if (bothEmpty) return undefined;
    return setAt.get(full) ?? firstSourceBelow(setAt, full) ?? [];
  }
  target[last] = isPlainObject(leaf.value) ? {} : leaf.value;
  setAt.set(full, leaf.source);
  return undefined;
}

function firstSourceBelow(setAt: Map<string, IssuePath>, prefix: string): IssuePath | undefined {
  for (const [key, source] of setAt) if (key.startsWith(`${prefix}.`)) return source;
  return undefined;
}

/** `override` wins; nested mappings are merged key by key, anything else (lists included) is replaced. */
export function deepMerge(base: ConfigObject, override: ConfigObject): ConfigObject {
  const merged: ConfigObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}
