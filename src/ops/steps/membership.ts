// Steps that change what a cluster is made of, for scale-out and scale-in: a member joins its replica set
// without a vote, syncs, and is promoted (one voting change per reconfig); a member leaves by reconfig (its
// primary role moved away first); a shard drains through removeShard; supervisor.ini gains or loses
// programs without touching the running ones; and meta.yaml records each process as it comes or goes, so
// that an interrupted run resumes from what is really there.
import type { Document } from 'mongodb';
import { MupError } from '../../errors.js';
import type { ClusterMeta } from '../../meta/store.js';
import { formatAddress, pollUntil, type ServerAddress, sleep } from '../../mongo/connect.js';
import { movePrimary, removeShard } from '../../mongo/drain.js';
import { moveAwayPrimary, waitForMemberReady } from '../../mongo/member.js';
import { memberOf, reconfigure, syncView } from '../../mongo/reconfig.js';
import { buildReplicaSetConfig } from '../../mongo/replset.js';
import { listShards } from '../../mongo/sharding.js';
import type { Step } from '../../plan/types.js';
import { applySupervisorConfig } from '../../supervisor/apply.js';
import { programRefFor } from '../../supervisor/instance-refs.js';
import { endpoint } from '../../topology/hosts.js';
import type { TopologySpec } from '../../topology/schema.js';
import { isElectable, type Section } from '../../topology/servers.js';
import type { ResolvedInstance, ResolvedTopology } from '../../topology/types.js';
import type { ClusterRuntime } from '../runtime.js';
import { HEALTHY_TIMEOUT_MS } from './replica-set.js';
import { renderSupervisorIniForHost } from './supervisord.js';

/** Bound on one reconfig, waiting for the previous config to commit included. */
const RECONFIG_TIMEOUT_MS = 120_000;
/** Bound on an initial sync: generous (it copies every database), and it must still end by itself. */
const INITIAL_SYNC_TIMEOUT_MS = 6 * 3600_000;
/** Bound on draining a shard: the balancer moves one chunk at a time. */
const DRAIN_TIMEOUT_MS = 24 * 3600_000;
/** A progress line at most this often, so the journal keeps a readable history of a long wait. */
const PROGRESS_EVERY_MS = 5000;

/** The members of `set` as addresses with the cluster's credentials (the primary is among them). */
export function setAddresses(rt: ClusterRuntime, set: string): ServerAddress[] {
  return rt.meta.topology.instances.filter((i) => i.replicaSet === set).map((i) => rt.address(i));
}

function memberDocument(rt: ClusterRuntime, instance: ResolvedInstance, id: number): Document {
  if (!instance.member) throw new MupError(`${instance.id} is not a replica-set member`);
  const [doc] = buildReplicaSetConfig(
    instance.replicaSet ?? '',
    [{ host: instance.host, port: instance.port, options: instance.member }],
    {},
    { configsvr: false, version: rt.meta.version },
  ).members as Document[];
  return { ...doc, _id: id };
}

/**
 * Adds the member with votes 0 and priority 0 (an arbiter as it is: it has nothing to sync): it syncs
 * without counting towards any majority, so the set's write availability does not depend on it yet.
 */
export function addMemberStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  const set = instance.replicaSet ?? '';
  const address = rt.address(instance);
  return {
    id: `add-member:${instance.id}`,
    title: `add ${instance.id} to ${set}${instance.member?.arbiterOnly ? ' as arbiter' : ' without a vote'}`,
    host: instance.host,
    run: async () => {
      const { changed, primary } = await reconfigure(
        setAddresses(rt, set).filter((a) => formatAddress(a) !== instance.id),
        (config) => {
          if (memberOf(config, address)) return false;
          const members = config.members as Document[];
          const next = Math.max(-1, ...members.map((m) => Number(m._id))) + 1;
          const doc = memberDocument(rt, instance, next);
          if (!instance.member?.arbiterOnly) Object.assign(doc, { votes: 0, priority: 0 });
          members.push(doc);
          return true;
        },
        RECONFIG_TIMEOUT_MS,
      );
      return changed ? `added through ${primary}` : 'already a member';
    },
  };
}

/**
 * Waits until the new member finished its initial sync and is a caught-up SECONDARY (or an ARBITER). It is
 * asked with the keyFile's identity: the admin user reaches it only with the data it is copying.
 */
export function initialSyncStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  const address = rt.address(instance, 'system');
  return {
    id: `sync:${instance.id}`,
    title: `wait until ${instance.id} has synced and caught up`,
    host: instance.host,
    run: async (context) => {
      let lastLog = 0;
      let last = '';
      const settled = await pollUntil(
        async () => {
          const view = await syncView(address);
          const line = `${view.state}${view.progress ? `: ${view.progress}` : ''}`;
          if (line !== last) context.progress(line);
          if (line !== last && Date.now() - lastLog >= PROGRESS_EVERY_MS) {
            context.log(line);
            lastLog = Date.now();
          }
          last = line;
          return ['SECONDARY', 'ARBITER', 'PRIMARY'].includes(view.state) ? view.state : undefined;
        },
        INITIAL_SYNC_TIMEOUT_MS,
        500,
      );
      if (!settled)
        throw new MupError(`${instance.id} did not finish its initial sync (last: ${last || 'no answer'})`, {
          hint: `see its log ${instance.logFile}`,
        });
      return `${await waitForMemberReady(address, HEALTHY_TIMEOUT_MS)}, caught up`;
    },
  };
}

/** Gives the member its requested votes and priority: one voting change, in a reconfig of its own. */
export function promoteMemberStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  const options = instance.member;
  const address = rt.address(instance);
  return {
    id: `promote:${instance.id}`,
    title: `give ${instance.id} votes ${options?.votes ?? 0}, priority ${options?.priority ?? 0}`,
    host: instance.host,
    run: async () => {
      if (!options) throw new MupError(`${instance.id} is not a replica-set member`);
      const { changed } = await reconfigure(
        setAddresses(rt, instance.replicaSet ?? ''),
        (config) => {
          const member = memberOf(config, address);
          if (!member) throw new MupError(`${instance.id} is not in the config of ${instance.replicaSet}`);
          const votes = Number(member.votes ?? 1);
          const priority = Number(member.priority ?? 1);
          if (votes === options.votes && priority === options.priority) return false;
          member.votes = options.votes;
          member.priority = options.priority;
          return true;
        },
        RECONFIG_TIMEOUT_MS,
      );
      return changed ? 'promoted' : 'already promoted';
    },
  };
}

/**
 * The member leaves its set: a primary steps down first (another member is elected), then a reconfig
 * without it — one member per reconfig, so at most one voting change each.
 */
export function leaveSetStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  const set = instance.replicaSet ?? '';
  const address = rt.address(instance);
  const others = setAddresses(rt, set).filter((a) => formatAddress(a) !== instance.id);
  return {
    id: `leave:${instance.id}`,
    title: `remove ${instance.id} from ${set} (stepping down first if primary)`,
    host: instance.host,
    run: async (context) => {
      const elected = await moveAwayPrimary(address, others, HEALTHY_TIMEOUT_MS).catch((error: unknown) => {
        // A member that is down cannot be primary: nothing to hand over.
        if (/ECONNREFUSED|no answer/i.test((error as Error).message)) return undefined;
        throw error;
      });
      if (elected) context.log(`stepped down; ${elected} is primary`);
      const { changed, primary } = await reconfigure(
        others,
        (config) => {
          const members = config.members as Document[];
          const kept = members.filter((m) => m.host !== instance.id);
          if (kept.length === members.length) return false;
          config.members = kept;
          return true;
        },
        RECONFIG_TIMEOUT_MS,
      );
      return changed ? `removed through ${primary}` : 'already out of the set';
    },
  };
}

/**
 * removeShard until it completes: the balancer drains the shard's chunks, then each database it is primary
 * of moves to `to`. Interrupting it leaves the shard draining; running it again picks up where it is.
 */
export function drainShardStep(rt: ClusterRuntime, set: string, mongos: ResolvedInstance, to: string): Step {
  const router = rt.address(mongos);
  return {
    id: `remove-shard:${set}`,
    title: `removeShard ${set} through ${mongos.id}: drain its chunks, move its databases to ${to}`,
    isDone: async () => !(await listShards(router)).some((s) => s._id === set),
    run: async (context) => {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      let lastLine = '';
      let lastShown = '';
      let lastLog = 0;
      while (Date.now() < deadline) {
        const reply = await removeShard(router, set);
        if (reply.state === 'completed') return 'removed';
        const line = `${reply.state}: ${reply.chunks ?? 'counting'} chunks left, databases to move: ${reply.dbsToMove.join(', ') || 'none'}`;
        if (line !== lastShown) context.progress(line);
        lastShown = line;
        if (line !== lastLine && (Date.now() - lastLog >= PROGRESS_EVERY_MS || reply.state === 'started')) {
          context.log(line);
          lastLog = Date.now();
          lastLine = line;
        }
        // Its databases move once its chunks are gone: movePrimary copies the unsharded collections.
        if (reply.chunks === 0)
          for (const db of reply.dbsToMove) {
            await movePrimary(router, db, to);
            context.log(`movePrimary ${db} → ${to}`);
          }
        await sleep(reply.chunks === 0 && reply.dbsToMove.length === 0 ? 100 : 1000);
      }
      throw new MupError(`shard ${set} did not drain within ${DRAIN_TIMEOUT_MS / 3600_000} h`, {
        hint: 'is the balancer running? see `sh.status()`; the shard stays draining, run `mup cluster resume` later',
      });
    },
  };
}

/**
 * Brings the host's supervisord to the programs of `metaFor()`: new programs added (not started), removed
 * ones stopped and removed. A running program whose section would change is never restarted here: that is
 * a reload's business, and the step stops instead.
 */
export function supervisorProgramsStep(
  rt: ClusterRuntime,
  host: string,
  id: string,
  title: string,
  metaFor: () => Promise<ClusterMeta>,
): Step {
  return {
    id,
    title,
    host,
    run: async () => {
      const target = rt.withMeta(await metaFor());
      const programs = new Map(target.instancesOn(host).map((i) => [i.programName, programRefFor(i)]));
      const result = await applySupervisorConfig(
        target.daemon(host),
        await renderSupervisorIniForHost(target, host),
        {
          programs,
          beforeReplace: async (group) => {
            throw new MupError(`supervisor.ini would change the running program ${group}`, {
              hint: 'apply pending configuration changes first (`mup cluster supervisor reload`), then run this again',
            });
          },
        },
      );
      return `added ${result.added.join(', ') || 'none'}; removed ${result.removed.join(', ') || 'none'}`;
    },
  };
}

function sectionOf(instance: ResolvedInstance): Section {
  return instance.role === 'config'
    ? 'config_servers'
    : instance.role === 'mongos'
      ? 'mongos_servers'
      : 'mongod_servers';
}

type Endpointed = { host: string; port: number };

function entriesOf(spec: TopologySpec, section: Section): Endpointed[] {
  return (spec[section] ?? []) as Endpointed[];
}

/** Instances in topology order (config servers, mongod, mongos), each section in spec order. */
function inSpecOrder(spec: TopologySpec, instances: readonly ResolvedInstance[]): ResolvedInstance[] {
  const rank = (i: ResolvedInstance) => {
    const section = sectionOf(i);
    const base = { config_servers: 0, mongod_servers: 100_000, mongos_servers: 200_000 }[section];
    const at = entriesOf(spec, section).findIndex((e) => endpoint(e.host, e.port) === i.id);
    return base + (at < 0 ? 99_999 : at);
  };
  return [...instances].sort((a, b) => rank(a) - rank(b));
}

/**
 * Records instances of `target` in meta.yaml (under the operation's lock): their spec entries, resolved
 * instances and replica-set membership. Already recorded ones are left as they are, so it can run again.
 */
export function recordAddedStep(
  rt: ClusterRuntime,
  target: { spec: TopologySpec; topology: ResolvedTopology },
  ids: readonly string[],
  id: string,
  what: string,
): Step {
  return {
    id,
    title: `record ${what} in the cluster's meta`,
    run: async () => {
      const meta = await rt.store.read(rt.meta.name);
      const known = new Set(meta.topology.instances.map((i) => i.id));
      const adding = new Set(ids.filter((i) => !known.has(i)));
      if (adding.size === 0) return 'already recorded';
      const spec: TopologySpec = { ...meta.spec };
      for (const section of ['config_servers', 'mongod_servers', 'mongos_servers'] as const) {
        const extra = entriesOf(target.spec, section).filter((e) => adding.has(endpoint(e.host, e.port)));
        if (extra.length > 0)
          (spec as Record<Section, Endpointed[]>)[section] = [...entriesOf(meta.spec, section), ...extra];
      }
      const instances = inSpecOrder(spec, [
        ...meta.topology.instances,
        ...target.topology.instances.filter((i) => adding.has(i.id)),
      ]);
      const present = new Set(instances.map((i) => i.id));
      const replicaSets = target.topology.replicaSets.flatMap((set) => {
        const stored = meta.topology.replicaSets.find((s) => s.name === set.name);
        const members = set.members.filter((m) => present.has(m));
        if (members.length === 0) return [];
        return [{ ...(stored ?? set), members }];
      });
      for (const set of replicaSets) {
        const settings = target.spec.replica_set_settings?.[set.name];
        if (settings && !meta.spec.replica_set_settings?.[set.name])
          spec.replica_set_settings = { ...spec.replica_set_settings, [set.name]: settings };
      }
      await rt.store.write({ ...meta, spec, topology: { ...meta.topology, instances, replicaSets } });
      return `recorded ${[...adding].join(', ')}`;
    },
  };
}

/** Removes the instance from meta.yaml: its spec entry, its resolved instance and its set membership. */
export async function forgetInstance(rt: ClusterRuntime, instance: ResolvedInstance): Promise<boolean> {
  const meta = await rt.store.read(rt.meta.name);
  if (!meta.topology.instances.some((i) => i.id === instance.id)) return false;
  const section = sectionOf(instance);
  const spec: TopologySpec = { ...meta.spec };
  const left = entriesOf(meta.spec, section).filter((e) => endpoint(e.host, e.port) !== instance.id);
  if (left.length > 0) (spec as Record<Section, Endpointed[]>)[section] = left;
  else delete spec[section];
  const instances = meta.topology.instances.filter((i) => i.id !== instance.id);
  const replicaSets = meta.topology.replicaSets.flatMap((set) => {
    const members = set.members.filter((m) => m !== instance.id);
    if (members.length === 0) {
      if (spec.replica_set_settings?.[set.name]) {
        const { [set.name]: _gone, ...rest } = spec.replica_set_settings;
        if (Object.keys(rest).length > 0) spec.replica_set_settings = rest;
        else delete spec.replica_set_settings;
      }
      return [];
    }
    // The initiator only matters for a set's first replSetInitiate; keep it pointing at a member.
    const initiator = members.includes(set.initiator)
      ? set.initiator
      : (members.find((m) => {
          const member = instances.find((i) => i.id === m)?.member;
          return member !== undefined && isElectable(member);
        }) ?? (members[0] as string));
    return [{ ...set, members, initiator }];
  });
  await rt.store.write({ ...meta, spec, topology: { ...meta.topology, instances, replicaSets } });
  return true;
}

export function recordRemovedStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `forget:${instance.id}`,
    title: `remove ${instance.id} from the cluster's meta`,
    run: async () => ((await forgetInstance(rt, instance)) ? 'removed' : 'already removed'),
  };
}

/** A new mongos answers and sees the cluster's shards. */
export function checkMongosStep(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  shards: readonly string[],
): Step {
  return {
    id: `check-mongos:${instance.id}`,
    title: `check that ${instance.id} routes to ${shards.join(', ') || 'the cluster'}`,
    host: instance.host,
    run: async () => {
      const seen = (await listShards(rt.address(instance))).map((s) => String(s._id));
      const missing = shards.filter((s) => !seen.includes(s));
      if (missing.length > 0)
        throw new MupError(
          `${instance.id} does not see shard(s) ${missing.join(', ')} (it sees ${seen.join(', ') || 'none'})`,
        );
      return `shards: ${seen.join(', ')}`;
    },
  };
}

/**
 * Records a host new to the cluster in meta.yaml — the host, its supervisor API endpoint, its keyFile path —
 * before anything is written on it: whatever an interrupted run leaves there, destroy and scale-in find it.
 */
export function recordHostStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `record-host:${host}`,
    title: `record host ${host} in the cluster's meta`,
    run: async () => {
      const meta = await rt.store.read(rt.meta.name);
      if (meta.topology.hosts.some((h) => h.host === host)) return 'already recorded';
      const keyFile = rt.keyFilePath(host);
      const security =
        meta.security === undefined || keyFile === undefined
          ? meta.security
          : {
              ...meta.security,
              keyFiles: [...meta.security.keyFiles.filter((k) => k.host !== host), { host, path: keyFile }],
            };
      await rt.store.write({
        ...meta,
        topology: { ...meta.topology, hosts: [...meta.topology.hosts, rt.host(host)] },
        supervisors: [...meta.supervisors.filter((s) => s.host !== host), rt.endpoint(host)],
        ...(security === undefined ? {} : { security }),
      });
      return 'recorded';
    },
  };
}

/** Removes a host the cluster no longer runs anything on from meta.yaml (the last step of its retirement). */
export function forgetHostStep(rt: ClusterRuntime, host: string): Step {
  return {
    id: `forget-host:${host}`,
    title: `remove host ${host} from the cluster's meta`,
    run: async () => {
      const meta = await rt.store.read(rt.meta.name);
      if (!meta.topology.hosts.some((h) => h.host === host)) return 'already removed';
      if (meta.topology.instances.some((i) => i.host === host))
        throw new MupError(`host ${host} still runs processes of cluster '${meta.name}'`);
      const security =
        meta.security === undefined
          ? undefined
          : { ...meta.security, keyFiles: meta.security.keyFiles.filter((k) => k.host !== host) };
      await rt.store.write({
        ...meta,
        topology: { ...meta.topology, hosts: meta.topology.hosts.filter((h) => h.host !== host) },
        supervisors: meta.supervisors.filter((s) => s.host !== host),
        ...(security === undefined ? {} : { security }),
      });
      return 'removed';
    },
  };
}
