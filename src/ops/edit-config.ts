// `mup cluster edit-config NAME`: the stored spec is edited as topology YAML, checked exactly as a topology
// file (positions included), refused where it changes what cannot change in place (hosts, ports, replica-set
// names, directories, the set of processes: those are scale-out/scale-in), and stored under the lock with
// the topology the processes still run with kept as `pending.applied` — `cluster reload` applies the
// difference. Nothing on any host changes here.
import { isDeepStrictEqual } from 'node:util';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { z } from 'zod';
import { MupError } from '../errors.js';
import { type ClusterMeta, ClusterStore, type PendingChanges } from '../meta/store.js';
import { renderInstanceConfig } from '../render/instance-config.js';
import { renderSupervisorIni, supervisorIniSpecForHost } from '../render/supervisor-ini.js';
import { checkTopology } from '../render/topology-check.js';
import { endpoint } from '../topology/hosts.js';
import type { IssuePath, TopologyIssue } from '../topology/issues.js';
import { throwIfAny } from '../topology/load.js';
import { type TopologySpec, topologySchema } from '../topology/schema.js';
import { listServers, type ServerEntry } from '../topology/servers.js';
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';
import { usedEndpoints } from './endpoints.js';
import { defineOperation } from './operation.js';
import { describeReconfig, planReconfigs, ReconfigRefusal } from './plans-reconfig.js';
import { SUPERVISOR_USERNAME } from './runtime.js';

/** One rendered file the edit changes, as a unified diff. */
export interface ConfigFileDiff {
  host: string;
  path: string;
  /** `mongod.conf`-style process config, or the host's supervisor.ini. */
  kind: 'process' | 'supervisor';
  diff: string;
}

export interface EditPreview {
  spec: TopologySpec;
  /** The stored topology with the edit applied. */
  topology: ResolvedTopology;
  /** False when the edited spec equals the stored one. */
  specChanged: boolean;
  files: ConfigFileDiff[];
  /** The replica-set reconfigs `cluster reload` will make (member options, settings), in order. */
  reconfigs: string[];
}

const HEADER = [
  '# Stored topology of cluster %NAME%. Save and quit to apply with `mup cluster reload %NAME%`;',
  '# an unchanged file changes nothing. Server configs and their setParameter values, member options',
  '# (priority, votes, hidden, secondary_delay_secs, tags) and replica_set_settings can change here;',
  '# hosts, ports, replica sets, directories, arbiter_only, build_indexes and the list of processes cannot',
  '# (use scale-out/scale-in).',
];

/** The text the editor opens: the stored spec as YAML under a comment saying what may change. */
export function editableText(meta: ClusterMeta): string {
  const header = HEADER.map((line) => line.replaceAll('%NAME%', meta.name)).join('\n');
  return `${header}\n${stringify(meta.spec)}`;
}

/** JSON round trip: drops `undefined` members, so a topology read from YAML and one resolved compare equal. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const SCALE_HINT = 'use `mup cluster scale-out` / `scale-in` to add, remove or move processes';

/** What cannot change in place, each pointed at the key in the edited file. */
function immutableIssues(
  before: ClusterMeta,
  after: TopologySpec,
  resolved: ResolvedTopology,
): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const oldServers = listServers(before.spec);
  const newServers = listServers(after);
  const key = (s: ServerEntry) => `${s.section}.${s.index}`;
  const oldByKey = new Map(
    oldServers.map((s, n) => [key(s), { server: s, instance: before.topology.instances[n] }]),
  );
  newServers.forEach((server, n) => {
    const path: IssuePath = [server.section, server.index];
    const old = oldByKey.get(key(server));
    if (old === undefined || old.instance === undefined) {
      issues.push({
        path,
        message: `a new ${server.role} process cannot be added by edit-config (${SCALE_HINT})`,
        atKey: false,
      });
      return;
    }
    const was = old.instance;
    const now = resolved.instances[n];
    if (server.host !== was.host)
      issues.push({
        path: [...path, 'host'],
        message: `cannot change in place (was ${was.host}; ${SCALE_HINT})`,
      });
    if (server.port !== was.port)
      issues.push({
        path: [...path, 'port'],
        message: `cannot change in place (was ${was.port}; ${SCALE_HINT})`,
      });
    if (server.replicaSet !== was.replicaSet)
      issues.push({
        path: [...path, 'replica_set'],
        message: `cannot change in place (was ${was.replicaSet ?? 'none'}; ${SCALE_HINT})`,
      });
    if (now === undefined || issues.length > 0) return;
    for (const dir of ['deployDir', 'dataDir', 'logDir', 'configDir'] as const)
      if (now[dir] !== was[dir])
        issues.push({
          path,
          message: `${dir} cannot change in place (${was[dir] ?? 'none'} → ${now[dir] ?? 'none'}; the data and files stay where they are)`,
        });
    // What MongoDB cannot change by reconfig (repl_set_config_checks.cpp): the member is removed and re-added.
    const fixed = [
      ['arbiter_only', 'arbiterOnly'],
      ['build_indexes', 'buildIndexes'],
    ] as const;
    for (const [key, field] of fixed)
      if (now.member && was.member && now.member[field] !== was.member[field])
        issues.push({
          path: key in server.spec ? [...path, key] : path,
          message: `${key} cannot change in place (was ${was.member[field]}): MongoDB needs the member removed and added again (scale-in, then scale-out)`,
        });
  });
  const removed = oldServers.filter((s) => !newServers.some((n) => key(n) === key(s)));
  for (const server of removed)
    issues.push({
      path: [server.section],
      message: `${server.host}:${server.port} cannot be removed by edit-config (${SCALE_HINT})`,
      atKey: true,
    });
  if ((after.global?.tls === true) !== (before.tls === true))
    issues.push({
      path: after.global?.tls === undefined ? ['global'] : ['global', 'tls'],
      message: `TLS cannot be turned ${before.tls === true ? 'off' : 'on'} in place (the cluster was deployed ${before.tls === true ? 'with' : 'without'} it; destroy and deploy again)`,
      atKey: after.global?.tls === undefined,
    });
  const oldHosts = plain(before.topology.hosts);
  const newHosts = plain(resolved.hosts);
  if (issues.length === 0 && !isDeepStrictEqual(oldHosts, newHosts))
    issues.push({
      path: ['global'],
      message: 'the SSH user, SSH port and global deploy_dir of the hosts cannot change in place',
      atKey: true,
    });
  return issues;
}

/** Renders one instance's config file under a topology. */
function render(meta: ClusterMeta, topology: ResolvedTopology, instance: ResolvedInstance): string {
  return renderInstanceConfig(instance, topology, { clusterName: meta.name, version: meta.version });
}

/**
 * supervisor.ini of a host for the diff: the password and the file-descriptor limit are the same on both
 * sides, so placeholders stand in for them and no secret can reach the terminal.
 */
function renderIni(meta: ClusterMeta, topology: ResolvedTopology, host: string): string {
  const resolvedHost = topology.hosts.find((h) => h.host === host);
  const endpoint = meta.supervisors.find((s) => s.host === host);
  if (resolvedHost === undefined || endpoint === undefined) return '';
  return renderSupervisorIni(
    supervisorIniSpecForHost({
      cluster: meta.name,
      supervisorDir: resolvedHost.supervisorDir,
      httpPort: endpoint.httpPort,
      username: SUPERVISOR_USERNAME,
      password: 'password-not-shown',
      minfds: 1024,
      instances: topology.instances.filter((i) => i.host === host),
      user: resolvedHost.user,
    }),
  );
}

function patch(path: string, before: string, after: string): string {
  return createTwoFilesPatch(path, path, before, after, 'stored', 'edited', { context: 3 });
}

/** Every rendered file that differs between two topologies of one cluster. */
export function renderedDiffs(
  meta: ClusterMeta,
  before: ResolvedTopology,
  after: ResolvedTopology,
): ConfigFileDiff[] {
  const files: ConfigFileDiff[] = [];
  after.instances.forEach((instance) => {
    const old = before.instances.find((i) => i.id === instance.id);
    if (old === undefined) return;
    const a = render(meta, before, old);
    const b = render(meta, after, instance);
    if (a !== b)
      files.push({
        host: instance.host,
        path: instance.configFile,
        kind: 'process',
        diff: patch(instance.configFile, a, b),
      });
  });
  for (const host of after.hosts) {
    const a = renderIni(meta, before, host.host);
    const b = renderIni(meta, after, host.host);
    const path = `${host.supervisorDir}/supervisor.ini`;
    if (a !== b) files.push({ host: host.host, path, kind: 'supervisor', diff: patch(path, a, b) });
  }
  return files;
}

/**
 * Checks edited topology text against the stored cluster: the topology rules and the server options of its
 * version (TopologyError with file:line:column, exit 2), then what cannot change in place. Changes nothing.
 */
export async function previewEdit(
  store: ClusterStore,
  meta: ClusterMeta,
  text: string,
  file: string,
): Promise<EditPreview> {
  const loaded = await checkTopology(text, file, {
    version: meta.version,
    ...(meta.tls === true ? { tls: true } : {}),
    usedEndpoints: await usedEndpoints(store, meta.name),
    // `port: 0` allocates; whatever it picks differs from the stored port and is refused below.
    isPortFree: async () => true,
  });
  throwIfAny(file, loaded, immutableIssues(meta, loaded.spec, loaded.resolved));
  // Server configs, member options and replica-set settings change: every other resolved field (allocated-port
  // marks included) stays as stored.
  const topology: ResolvedTopology = {
    ...meta.topology,
    instances: meta.topology.instances.map((instance, n) => {
      const edited = loaded.resolved.instances[n];
      return {
        ...instance,
        serverConfig: edited?.serverConfig ?? instance.serverConfig,
        ...(instance.member && edited?.member ? { member: edited.member } : {}),
      };
    }),
    replicaSets: meta.topology.replicaSets.map((set) => ({
      ...set,
      settings: loaded.resolved.replicaSets.find((s) => s.name === set.name)?.settings ?? set.settings,
    })),
  };
  // The reconfigs reload will make, from what runs now: refused here already when no safe order exists.
  let reconfigs: string[];
  try {
    reconfigs = planReconfigs(
      meta.pending?.applied ?? meta.topology,
      topology,
      new Set(topology.instances.map((i) => i.id)),
    ).map((r) => `${r.set}: ${describeReconfig(r)}`);
  } catch (error) {
    if (!(error instanceof ReconfigRefusal)) throw error;
    const server = listServers(loaded.spec).find((e) => endpoint(e.host, e.port) === error.member);
    throwIfAny(file, loaded, [
      {
        path: server ? [server.section, server.index] : ['replica_set_settings'],
        message: `${error.message} (${error.hint ?? 'replica-set reconfig'})`,
        atKey: server === undefined,
      },
    ]);
    throw error;
  }
  return {
    spec: loaded.spec,
    topology,
    specChanged: !isDeepStrictEqual(plain(loaded.spec), plain(meta.spec)),
    files: renderedDiffs(meta, meta.topology, topology),
    reconfigs,
  };
}

/** The pending mark after storing `topology`: none once it equals what the processes run with. */
export function pendingAfter(
  meta: ClusterMeta,
  topology: ResolvedTopology,
  now: string,
): PendingChanges | undefined {
  const applied = meta.pending?.applied ?? meta.topology;
  if (isDeepStrictEqual(plain(applied), plain(topology))) return undefined;
  return { since: meta.pending?.since ?? now, applied };
}

export const editConfigOperation = defineOperation({
  name: 'edit-config',
  args: z.object({ spec: topologySchema }),
  confirm: 'plan',
  // Checked again under the lock (and on resume): the cluster may have changed since the editor closed.
  gather: async (rt, args) =>
    previewEdit(rt.store, rt.meta, stringify(args.spec), `edit-config ${rt.meta.name}`),
  plan: (rt, args, preview) => ({
    operation: 'edit-config',
    cluster: rt.meta.name,
    phases: [
      {
        name: 'store',
        title: 'Store the edited topology',
        parallel: false,
        steps: [
          {
            id: `store-spec:${rt.meta.name}`,
            title: `store the edited topology of ${rt.meta.name} (applied by \`mup cluster reload\`)`,
            isDone: async () =>
              isDeepStrictEqual(plain((await rt.store.read(rt.meta.name)).spec), plain(args.spec)),
            run: async () => {
              const stored = await rt.store.read(rt.meta.name);
              if (
                !isDeepStrictEqual(
                  plain(stored.topology.instances.map((i) => i.id)),
                  preview.topology.instances.map((i) => i.id),
                )
              )
                throw new MupError(`cluster '${rt.meta.name}' changed while it was being edited`, {
                  hint: 'run `mup cluster edit-config` again',
                });
              const pending = pendingAfter(stored, preview.topology, new Date().toISOString());
              const { pending: _old, ...rest } = stored;
              await rt.store.write({
                ...rest,
                spec: args.spec,
                topology: preview.topology,
                ...(pending ? { pending } : {}),
              });
              return pending
                ? 'stored; run `mup cluster reload` to apply it'
                : 'stored; nothing left to reload';
            },
          },
        ],
      },
    ],
    report: () => ({
      files: preview.files,
      reconfigs: preview.reconfigs,
      pendingReload: pendingAfter(rt.meta, preview.topology, '') !== undefined,
    }),
  }),
});

export interface EditStart {
  /** What the editor opens. */
  text: string;
  /** Checks an edited text (see previewEdit); `file` names the edited file in messages. */
  check(text: string, file: string): Promise<EditPreview>;
}

/** Reads the stored cluster for an edit; the lock is taken only when the edit is stored. */
export async function startEdit(home: string, name: string): Promise<EditStart> {
  const store = new ClusterStore(home);
  const meta = await store.read(name);
  return { text: editableText(meta), check: (text, file) => previewEdit(store, meta, text, file) };
}
