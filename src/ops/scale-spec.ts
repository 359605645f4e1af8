// What scale-out adds, as topology: a part file in the topology format is appended to the stored spec, and
// the merged spec must pass every rule a deploy's topology passes (unique ports, ≤ 7 voters, ≤ 50 members,
// one arbiter, ...). Problems are reported against the part file with its lines and columns. The merged
// topology keeps every existing instance exactly as stored; only the part's entries are resolved anew.
import { MupError } from '../errors.js';
import { localUidOf } from '../hosts/local.js';
import type { ClusterMeta, SupervisorEndpoint } from '../meta/store.js';
import { findServerOptionIssues } from '../render/topology-check.js';
import { endpoint } from '../topology/hosts.js';
import { formatPath, type IssuePath, TopologyError, type TopologyIssue } from '../topology/issues.js';
import { defaultTrustedOwners, inspectLocalPath, localRealPath, throwIfAny } from '../topology/load.js';
import { type ParsedTopology, parseTopology, positionIssues } from '../topology/parse.js';
import { checkDirPlacement } from '../topology/path-rules.js';
import { resolveTopology } from '../topology/resolve.js';
import { checkRules, type UsedEndpoint } from '../topology/rules.js';
import type { TopologySpec } from '../topology/schema.js';
import { kindOf, listServers, memberOptionsOf, type Section } from '../topology/servers.js';
import type { ResolvedHost, ResolvedInstance, ResolvedTopology } from '../topology/types.js';

const SECTIONS: readonly Section[] = ['config_servers', 'mongod_servers', 'mongos_servers'];

type Endpointed = { host: string; port: number };

function sameEndpoint(a: Endpointed, b: Endpointed): boolean {
  return a.host === b.host && a.port === b.port;
}

/** The ids (host:port) of the part's servers. */
export function partIds(part: TopologySpec): Set<string> {
  return new Set(listServers(part).map((s) => endpoint(s.host, s.port)));
}

/**
 * The stored spec with the part's servers appended to their sections and its replica_set_settings added.
 * `skipKnown`: a server the stored spec already has (recorded by an earlier, interrupted run) is not
 * appended again. `offsets` are the stored sections' lengths: a merged index at or past it is the part's.
 */
export function mergeSpec(
  stored: TopologySpec,
  part: TopologySpec,
  skipKnown: boolean,
): { merged: TopologySpec; offsets: Record<Section, number> } {
  const merged: TopologySpec = { ...stored };
  const offsets = {} as Record<Section, number>;
  for (const section of SECTIONS) {
    const before = (stored[section] ?? []) as Endpointed[];
    offsets[section] = before.length;
    const added = ((part[section] ?? []) as Endpointed[]).filter(
      (entry) => !skipKnown || !before.some((known) => sameEndpoint(known, entry)),
    );
    if (before.length + added.length > 0)
      (merged as Record<Section, Endpointed[]>)[section] = [...before, ...added];
  }
  const settings = { ...stored.replica_set_settings, ...part.replica_set_settings };
  if (Object.keys(settings).length > 0) merged.replica_set_settings = settings;
  return { merged, offsets };
}

export interface ScaleOutTarget {
  /** The cluster as it is once every part server is in: the stored instances unchanged, the part's added. */
  topology: ResolvedTopology;
  spec: TopologySpec;
  /** The part's instances, in topology order (config servers, mongod, mongos). */
  added: ResolvedInstance[];
  /** Replica sets made only of part servers: initiated (and added as shards) rather than joined. */
  newSets: string[];
  /**
   * Hosts the cluster did not run on before this scale-out: each gets what deploy gives a host (its
   * supervisord, the binaries, the keyFile, its boot entry) before its processes join.
   */
  newHosts: ResolvedHost[];
  /** The supervisor API endpoints of the new hosts (allocated before the operation, journaled with it). */
  newEndpoints: SupervisorEndpoint[];
}

/**
 * Resolves the merged topology. The stored instances and replica sets (their initiator, their settings) are
 * kept as stored; the part's servers resolve exactly as deploy would resolve them (its ports are pinned).
 * A host is new when the stored cluster does not have it, or when `endpoints` (journaled by the operation)
 * names it: a resumed run sees the same new hosts after an earlier attempt recorded them in meta.
 */
export async function scaleOutTarget(
  meta: ClusterMeta,
  part: TopologySpec,
  endpoints: readonly SupervisorEndpoint[] = [],
): Promise<ScaleOutTarget> {
  const { merged } = mergeSpec(meta.spec, part, true);
  const resolved = await resolveTopology(merged, {
    isPortFree: async () => true,
    usedEndpoints: [],
  });
  const stored = new Map(meta.topology.instances.map((i) => [i.id, i]));
  const ids = partIds(part);
  const instances = resolved.instances.map((i) => stored.get(i.id) ?? i);
  const known = (host: string) => meta.topology.hosts.some((k) => k.host === host);
  const newHosts = resolved.hosts.flatMap((h) => {
    if (endpoints.some((e) => e.host === h.host))
      return [meta.topology.hosts.find((k) => k.host === h.host) ?? h];
    return known(h.host) ? [] : [h];
  });
  const hosts = [...meta.topology.hosts, ...newHosts.filter((h) => !known(h.host))];
  const replicaSets = resolved.replicaSets.map((set) => {
    const old = meta.topology.replicaSets.find((s) => s.name === set.name);
    return old ? { ...old, members: set.members } : set;
  });
  const newSets = replicaSets.filter((set) => set.members.every((id) => ids.has(id))).map((set) => set.name);
  return {
    spec: merged,
    topology: { ...meta.topology, instances, replicaSets, hosts },
    added: instances.filter((i) => ids.has(i.id)),
    newSets,
    newHosts,
    newEndpoints: endpoints.filter((e) => newHosts.some((h) => h.host === e.host)),
  };
}

/** Points a rule's issue about the merged spec at the part file; undefined when it is about a stored entry. */
function inPart(
  issue: TopologyIssue,
  offsets: Record<Section, number>,
  part: TopologySpec,
): TopologyIssue | undefined {
  const [head, index, ...rest] = issue.path;
  if (SECTIONS.includes(head as Section) && typeof index === 'number') {
    const at = index - offsets[head as Section];
    return at >= 0 ? { ...issue, path: [head as Section, at, ...rest] } : undefined;
  }
  if (head === 'replica_set_settings' && typeof index === 'string' && part.replica_set_settings?.[index])
    return issue;
  return undefined;
}

function positioned(
  issues: readonly TopologyIssue[],
  offsets: Record<Section, number>,
  parsed: ParsedTopology,
): TopologyIssue[] {
  return issues.map(
    (issue) =>
      inPart(issue, offsets, parsed.spec) ?? {
        path: [] as IssuePath,
        message: `${formatPath(issue.path) || 'the merged topology'}: ${issue.message}`,
      },
  );
}

/** Problems of the part by itself: what a part may not hold, and what it must. */
function partShapeIssues(meta: ClusterMeta, part: TopologySpec): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  for (const key of ['global', 'server_configs'] as const) {
    if (part[key] !== undefined)
      issues.push({
        path: [key],
        message: `${key} belongs to the whole cluster and cannot change by scale-out; give new servers their own deploy_dir/config (scale-out part)`,
        atKey: true,
      });
  }
  if (listServers(part).length === 0)
    issues.push({
      path: [],
      message:
        'a scale-out part adds servers: config_servers, mongod_servers or mongos_servers (scale-out part)',
    });
  const existingSets = new Set(meta.topology.replicaSets.map((s) => s.name));
  for (const name of Object.keys(part.replica_set_settings ?? {})) {
    if (existingSets.has(name))
      issues.push({
        path: ['replica_set_settings', name],
        message: `replica set "${name}" exists; its settings do not change by scale-out (scale-out part)`,
        atKey: true,
      });
  }
  return issues;
}

export interface CheckedPart {
  /** The part with allocated ports pinned: what the operation journals, so that resume resolves the same. */
  part: TopologySpec;
  target: ScaleOutTarget;
  /** Replica sets that end with an even number of voters. */
  warnings: string[];
}

export interface PartCheckOptions {
  usedEndpoints: readonly UsedEndpoint[];
  isPortFree: (port: number) => Promise<boolean>;
  portBase?: number;
}

/**
 * Every check of a part file that needs no change: its syntax and schema, what a part may hold, and the
 * merged topology's rules, dir placement and server options — each problem at its line and column in the
 * part. Throws TopologyError (exit 2).
 */
export async function checkScaleOutPart(
  meta: ClusterMeta,
  text: string,
  file: string,
  options: PartCheckOptions,
): Promise<CheckedPart> {
  const { issues, parsed } = parseTopology(text, file);
  if (!parsed) throw new TopologyError(file, issues);
  const { merged, offsets } = mergeSpec(meta.spec, parsed.spec, false);
  const found: TopologyIssue[] = [...partShapeIssues(meta, parsed.spec)];
  if (kindOf(merged) !== meta.topology.kind)
    found.push({
      path: ['config_servers'],
      message: `the cluster is ${meta.topology.kind === 'sharded' ? 'a sharded cluster' : `a ${meta.topology.kind} cluster`}; scale-out cannot make it ${kindOf(merged)} (scale-out part)`,
      atKey: true,
    });
  found.push(...positioned(checkRules(merged, { usedEndpoints: options.usedEndpoints }), offsets, parsed));
  const broken = [...issues, ...positionIssues(found, parsed.doc, parsed.lineCounter, file)];
  if (broken.length > 0) throw new TopologyError(file, broken);

  // Ports of the part written as 0 are allocated here, away from every stored and other cluster's port.
  const resolved = await resolveTopology(merged, {
    isPortFree: options.isPortFree,
    usedEndpoints: options.usedEndpoints,
    ...(options.portBase === undefined ? {} : { portBase: options.portBase }),
  });
  // The same checks as deploy's: existing dirs are real dirs owned by mup's user, root or the process user.
  const placement = checkDirPlacement(merged, resolved, {
    inspectPath: inspectLocalPath,
    realPathOf: localRealPath,
    trustedOwners: defaultTrustedOwners(),
    uidOf: localUidOf,
  });
  const serverOptions = findServerOptionIssues(
    { ...parsed, spec: merged, resolved },
    meta.version,
    meta.tls === true,
  );
  throwIfAny(file, parsed, positioned([...placement, ...serverOptions], offsets, parsed));

  const part = pinPartPorts(parsed.spec, merged, offsets, resolved);
  const target = await scaleOutTarget(meta, part);
  return { part, target, warnings: evenVoterWarnings(target, part) };
}

/** The part with each `port: 0` replaced by the port the merged topology gave it. */
function pinPartPorts(
  part: TopologySpec,
  merged: TopologySpec,
  offsets: Record<Section, number>,
  resolved: ResolvedTopology,
): TopologySpec {
  const servers = listServers(merged);
  const portOf = (section: Section, index: number) => {
    const at = servers.findIndex((s) => s.section === section && s.index === offsets[section] + index);
    const instance = resolved.instances[at];
    if (!instance) throw new MupError(`no resolved instance for ${section}[${index}] of the part`);
    return instance.port;
  };
  const pinned: TopologySpec = { ...part };
  for (const section of SECTIONS) {
    const list = part[section] as Endpointed[] | undefined;
    if (list === undefined) continue;
    (pinned as Record<Section, Endpointed[]>)[section] = list.map((entry, index) =>
      entry.port === 0 ? { ...entry, port: portOf(section, index) } : entry,
    );
  }
  return pinned;
}

function evenVoterWarnings(target: ScaleOutTarget, part: TopologySpec): string[] {
  const touched = new Set(listServers(part).flatMap((s) => (s.replicaSet ? [s.replicaSet] : [])));
  const warnings: string[] = [];
  for (const set of target.topology.replicaSets.filter((s) => touched.has(s.name))) {
    const voters = listServers(target.spec).filter(
      (s) => s.replicaSet === set.name && s.mongod && memberOptionsOf(s.mongod).votes === 1,
    ).length;
    if (voters % 2 === 0)
      warnings.push(
        `replica set ${set.name} will have ${voters} voting members: an even number tolerates no more failures than one fewer; add an arbiter or a member, or give one votes: 0`,
      );
  }
  return warnings;
}
