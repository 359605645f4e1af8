// Every check of a topology file that needs no remote host, in one place: `mup topology validate` and
// `mup cluster deploy` (dry run or not) call this same function, so they refuse the same files with the same
// messages and positions. On top of the topology rules and dir placement it checks each instance's server
// config against the target MongoDB version and points each problem at the key in the file that set it.
import type { IssuePath, TopologyIssue } from '../topology/issues.js';
import { type LoadedTopology, loadTopology, throwIfAny, type ValidateOptions } from '../topology/load.js';
import type { DirPlacementOptions } from '../topology/path-rules.js';
import type { ResolveOptions } from '../topology/resolve.js';
import type { TopologySpec } from '../topology/schema.js';
import { isPlainObject } from '../topology/server-config.js';
import { listServers, pathOf, type ServerEntry } from '../topology/servers.js';
import type { ConfigProblem } from './config-problems.js';
import { clusterTlsSettings } from './context.js';
import { findInstanceConfigProblems } from './instance-config.js';
import { parseMongoVersion, VERSION_FAMILIES } from './mongo-version.js';

/** What `topology validate` checks against without --version: the newest supported series. */
export const DEFAULT_CHECK_VERSION: string = VERSION_FAMILIES[VERSION_FAMILIES.length - 1] as string;

/**
 * The version to check a requested one against before the binaries are resolved: the series or exact
 * version as given, or the newest series for specs such as "latest" (checked again once resolved).
 */
export function versionForChecks(requested: string | undefined): string {
  if (requested === undefined) return DEFAULT_CHECK_VERSION;
  try {
    parseMongoVersion(requested);
    return requested;
  } catch {
    return DEFAULT_CHECK_VERSION;
  }
}

export interface TopologyCheckOptions extends ValidateOptions, ResolveOptions, DirPlacementOptions {
  /** The MongoDB version the cluster will run: a series ("8.0") or exact ("7.0.14"). */
  version: string;
  /** `--tls` was given: check as for `global.tls: true`. */
  tls?: boolean;
}

/** Parses, checks and resolves; throws TopologyError (exit 2) with every problem and its position. */
export async function checkTopology(
  text: string,
  file: string,
  options: TopologyCheckOptions,
): Promise<LoadedTopology> {
  parseMongoVersion(options.version); // an unsupported version is refused before anything else
  const loaded = await loadTopology(text, file, options);
  const tls = options.tls === true || loaded.spec.global?.tls === true;
  throwIfAny(file, loaded, findServerOptionIssues(loaded, options.version, tls));
  return loaded;
}

/**
 * Server-config problems of every instance, pointed at the key that set the option. `tls`: the cluster gets
 * mup's TLS (`--tls`; default: the topology's `global.tls`), whose options the user may not set.
 */
export function findServerOptionIssues(
  loaded: LoadedTopology,
  version: string,
  tls: boolean = loaded.spec.global?.tls === true,
): TopologyIssue[] {
  const servers = listServers(loaded.spec);
  const issues: TopologyIssue[] = [];
  const seen = new Set<string>();
  loaded.resolved.instances.forEach((instance, index) => {
    const server = servers[index];
    if (server === undefined) return;
    // Security and TLS are mup's own settings, not the user's: the check covers what the user wrote, and
    // on a TLS cluster that it leaves mup's TLS options alone.
    const supervisorDir = loaded.resolved.hosts.find((h) => h.host === instance.host)?.supervisorDir;
    const problems = findInstanceConfigProblems(instance, loaded.resolved, {
      clusterName: 'check',
      version,
      ...(tls && supervisorDir !== undefined ? { tls: clusterTlsSettings(supervisorDir) } : {}),
    });
    for (const problem of problems) {
      const { path, leaf } = sourceOfOption(loaded.spec, server, problem.option);
      const message = `${leaf === problem.option ? '' : `${problem.option} `}${problem.message} (server option, MongoDB ${version})`;
      const id = `${path.join('\u0000')}|${message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      issues.push({ path, message, atKey: true });
    }
  });
  return issues;
}

interface SourceLeaf {
  keys: string;
  path: IssuePath;
}

/** Every setting of a config fragment with its dotted option name and its path in the topology file. */
function sourceLeaves(fragment: unknown, base: IssuePath, prefix = ''): SourceLeaf[] {
  if (!isPlainObject(fragment)) return [];
  const out: SourceLeaf[] = [];
  for (const [key, value] of Object.entries(fragment)) {
    const keys = prefix === '' ? key : `${prefix}.${key}`;
    const path = [...base, key];
    if (isPlainObject(value) && Object.keys(value).length > 0) out.push(...sourceLeaves(value, path, keys));
    else out.push({ keys, path });
  }
  return out;
}

function related(option: string, keys: string): boolean {
  return keys === option || keys.startsWith(`${option}.`) || option.startsWith(`${keys}.`);
}

/**
 * Where an option of an instance's merged config was written: its own `config` wins (it overrides
 * server_configs), then the role's server_configs; the server entry when neither names it (a rule about
 * mup's own settings).
 */
function sourceOfOption(
  spec: TopologySpec,
  server: ServerEntry,
  option: ConfigProblem['option'],
): { path: IssuePath; leaf?: string } {
  const process = server.role === 'mongos' ? 'mongos' : 'mongod';
  const fragments: [unknown, IssuePath][] = [
    [server.spec.config, [...pathOf(server), 'config']],
    [spec.server_configs?.[process], ['server_configs', process]],
  ];
  for (const [fragment, base] of fragments) {
    const leaf = sourceLeaves(fragment, base).find((l) => related(option, l.keys));
    if (leaf) return { path: leaf.path, leaf: leaf.keys };
  }
  return { path: pathOf(server) };
}
