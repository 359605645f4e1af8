// Where mup may put a cluster's files (PRODUCT.md §9): dir values use a safe character set, never climb out of
// their base with `..`, stay out of `/` and the system dirs, and one instance's dirs never nest inside
// another's or inside the cluster's supervisor dir. Raw values are checked on the spec; the placement rules on
// the resolved absolute paths, pointed back at the key that produced each path.
import { posix } from 'node:path';
import { formatPath, type IssuePath, type TopologyIssue } from './issues.js';
import type { TopologySpec } from './schema.js';
import { listServers, pathOf, type ServerEntry } from './servers.js';
import type { ResolvedInstance, ResolvedTopology } from './types.js';

export const DIR_KEYS = ['deploy_dir', 'data_dir', 'log_dir', 'config_dir'] as const;
export type DirKey = (typeof DIR_KEYS)[number];

/**
 * Letters, digits and `/ . _ - + @ , =`, plus a leading `~` or `~/`. mongod reads its config file as ASCII
 * only (MongoDB manual, mongod --config), supervisord splits `command=` shell-style and expands `%(...)s`,
 * and a space, quote, `$` or `;` in a path is almost always a mistake that would create a literal dir.
 */
const SAFE_PATH = /^[A-Za-z0-9/._+@=,-]*$/;
/** Linux NAME_MAX: one path component. */
const MAX_COMPONENT = 255;
/** Far below PATH_MAX (4096), leaving room for what MongoDB creates beneath a dbPath (diagnostic.data/...). */
export const MAX_PATH_LENGTH = 1024;

/**
 * System dirs a cluster must never be placed in or under (PRODUCT.md §9). Deploying as root there could
 * overwrite the operating system, and destroy would remove what it created.
 */
export const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/sbin',
  '/sys',
  '/usr',
] as const;

/** Why `value` (as written, `~` allowed) cannot be a dir; undefined when the text is acceptable. */
export function dirValueProblem(value: string, key: DirKey = 'deploy_dir'): string | undefined {
  const control = [...value].find((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (control !== undefined) {
    return `must not contain control characters (found U+${control.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}) (path characters)`;
  }
  if (value.length > MAX_PATH_LENGTH) {
    return `is ${value.length} characters long; mup allows at most ${MAX_PATH_LENGTH} (path length)`;
  }
  if (/^~[^/]/.test(value)) {
    return 'the ~user form is not supported; write ~/ (the login user’s home) or an absolute path (path characters)';
  }
  const body = value.replace(/^~(?=\/|$)/, '');
  const bad = [...body].find((c) => !SAFE_PATH.test(c));
  if (bad !== undefined) {
    return `must contain only letters, digits and / . _ - + @ , = (found ${JSON.stringify(bad)}) (path characters)`;
  }
  const parts = body.split('/');
  const long = parts.find((part) => part.length > MAX_COMPONENT);
  if (long !== undefined) {
    return `has a path component of ${long.length} characters; at most ${MAX_COMPONENT} (path length)`;
  }
  if (parts.includes('..')) return 'must not contain ".." components (path escape)';
  // config_dir is judged once resolved: beneath /etc is allowed for it (see placementProblem).
  if (body.startsWith('/') && !value.startsWith('~') && key !== 'config_dir')
    return placementProblem(body, key);
  return undefined;
}

/** The dir values written in the topology: global ones and every server's own. */
export function checkDirValues(spec: TopologySpec): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const check = (value: string | undefined, path: IssuePath) => {
    if (value === undefined) return;
    const problem = dirValueProblem(value, path[path.length - 1] as DirKey);
    if (problem !== undefined) issues.push({ path, message: problem });
  };
  for (const key of DIR_KEYS) check(spec.global?.[key], ['global', key]);
  // The home itself as the deploy dir would put the supervisor dir straight in it, and destroy would remove it.
  const deploy = spec.global?.deploy_dir;
  if (
    deploy !== undefined &&
    posix.normalize(deploy.replace(/^~\/?/, '') || '.').replace(/\/+$/, '') === '.'
  ) {
    issues.push({
      path: ['global', 'deploy_dir'],
      message:
        'must not be the home dir itself; name a dir beneath it, such as ~/mongo-deploy (path confinement)',
    });
  }
  for (const server of listServers(spec)) {
    const own = server.spec as Partial<Record<DirKey, string>>;
    for (const key of DIR_KEYS) check(own[key], [...pathOf(server), key]);
  }
  return issues;
}

/**
 * Why an absolute path is not a place for a cluster's files (`/`, a system dir or beneath one). Config files
 * may live beneath /etc (MongoDB's packages use /etc/mongod.conf; PRODUCT.md §4's examples use
 * /etc/mongodb), but never in /etc itself.
 */
export function placementProblem(path: string, key: DirKey = 'deploy_dir'): string | undefined {
  const clean = posix.normalize(path);
  if (clean === '/') return 'resolves to /, the root of the file system (path confinement)';
  const system = SYSTEM_DIRS.find(
    (dir) => clean === dir || (clean.startsWith(`${dir}/`) && !(key === 'config_dir' && dir === '/etc')),
  );
  if (system !== undefined) return `resolves to ${clean}, inside the system dir ${system} (path confinement)`;
  if (clean.length > MAX_PATH_LENGTH) {
    return `resolves to a path of ${clean.length} characters; mup allows at most ${MAX_PATH_LENGTH} (path length)`;
  }
  return undefined;
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

type InstanceDir = 'deployDir' | 'dataDir' | 'logDir' | 'configDir';
const INSTANCE_DIRS: readonly { field: InstanceDir; key: DirKey }[] = [
  { field: 'deployDir', key: 'deploy_dir' },
  { field: 'dataDir', key: 'data_dir' },
  { field: 'logDir', key: 'log_dir' },
  { field: 'configDir', key: 'config_dir' },
];

/**
 * The key a resolved dir comes from, to point the message at it: the server's own value, else the global
 * one, else the deploy dir it defaults beneath (own, then global), else the server entry itself.
 */
function sourceOf(spec: TopologySpec, server: ServerEntry, key: DirKey): IssuePath {
  const own = server.spec as Partial<Record<DirKey, string>>;
  if (own[key] !== undefined) return [...pathOf(server), key];
  if (spec.global?.[key] !== undefined) return ['global', key];
  if (key !== 'deploy_dir') return sourceOf(spec, server, 'deploy_dir');
  return pathOf(server);
}

/** What is at a local path itself (lstat: a final symbolic link is not followed). */
export interface PathFacts {
  kind: 'dir' | 'link' | 'other' | 'missing';
  /** Owner's user id (when it exists). */
  uid?: number;
  /** Permission bits, st_mode & 0o7777 (when it exists). */
  mode?: number;
}

export interface DirPlacementOptions {
  /**
   * What exists at an absolute path on the instance's host. Only asked for local hosts: a path whose existing
   * part is a file cannot become a dir, and an existing dir of the cluster must be a real dir the deploy
   * user owns.
   */
  inspectPath?: (path: string) => PathFacts;
  /** The real path of an existing path (symbolic links resolved). */
  realPathOf?: (path: string) => string;
  /**
   * User ids that may own an existing dir of the cluster: the user running mup, root and the user its
   * processes run as. Without it ownership is not checked.
   */
  trustedOwners?: readonly number[];
  /** The user id of a user on the local machine (undefined when unknown): the user processes run as may own its dirs. */
  uidOf?: (user: string) => number | undefined;
}

/**
 * Placement of the resolved dirs: not `/` nor in a system dir, no instance dir inside (or equal to) another
 * instance's dirs on the same machine or inside the supervisor dir, and no existing file where a dir goes.
 * `topology` must come from `spec` (same server order).
 */
export function checkDirPlacement(
  spec: TopologySpec,
  topology: ResolvedTopology,
  options: DirPlacementOptions = {},
): TopologyIssue[] {
  const servers = listServers(spec);
  const issues: TopologyIssue[] = [];
  const reported = new Set<string>();
  // One complaint per key: a global dir shared by every instance would otherwise repeat it per instance.
  const report = (path: IssuePath, message: string) => {
    const id = formatPath(path);
    if (reported.has(id)) return;
    reported.add(id);
    issues.push({ path, message });
  };
  const machineOf = (i: { host: string; local: boolean }) => (i.local ? 'local' : i.host.toLowerCase());
  const supervisorDirs = topology.hosts.map((h) => ({ machine: machineOf(h), dir: h.supervisorDir }));
  const globalDeploy: IssuePath = spec.global?.deploy_dir === undefined ? [] : ['global', 'deploy_dir'];

  // Every dir of the cluster on a local machine, and the global deploy dir holding its supervisor dir:
  // beneath these, an existing path must be a real dir the deploy user owns.
  const localZone = [
    ...topology.hosts.filter((h) => h.local).map((h) => posix.dirname(h.supervisorDir)),
    ...topology.instances
      .filter((i) => i.local)
      .flatMap((i) => INSTANCE_DIRS.map(({ field }) => i[field]))
      .filter((dir): dir is string => dir !== undefined),
  ];
  const zoneOf = (instance: ResolvedInstance) => (instance.local ? localZone : []);
  // The user the processes run as owns the dirs mup made for them (kept data, a redeploy): trusted too.
  const runAs = topology.hosts.find((h) => h.local)?.user;
  const runAsUid = runAs === undefined ? undefined : options.uidOf?.(runAs);
  const checks: DirPlacementOptions = {
    ...options,
    ...(options.trustedOwners === undefined
      ? {}
      : { trustedOwners: [...options.trustedOwners, ...(runAsUid === undefined ? [] : [runAsUid])] }),
  };
  for (const host of topology.hosts) {
    const problem = placementProblem(host.supervisorDir);
    if (problem !== undefined) {
      report(globalDeploy, `the supervisor dir ${problem}`);
      continue;
    }
    if (!host.local || !options.inspectPath) continue;
    const existing = existingPathProblem(host.supervisorDir, localZone, checks);
    if (existing !== undefined) report(globalDeploy, `the supervisor dir ${existing}`);
  }
  topology.instances.forEach((instance, index) => {
    const server = servers[index];
    if (server === undefined) return;
    for (const { field, key } of INSTANCE_DIRS) {
      const dir = instance[field];
      if (dir === undefined) continue;
      const source = sourceOf(spec, server, key);
      const problem = placementProblem(dir, key);
      if (problem !== undefined) {
        report(source, `${key} of ${instance.programName} ${problem}`);
        continue;
      }
      const supervisor = supervisorDirs.find((s) => s.machine === machineOf(instance));
      if (supervisor && (isWithin(dir, supervisor.dir) || isWithin(supervisor.dir, dir))) {
        report(
          source,
          `${key} of ${instance.programName} (${dir}) overlaps the cluster's supervisor dir ${supervisor.dir} (nested dirs)`,
        );
        continue;
      }
      const other = nestedIn(dir, instance, topology.instances, machineOf);
      if (other !== undefined) {
        report(
          source,
          `${key} of ${instance.programName} (${dir}) is inside ${other.what} of ${other.instance.programName} (${other.dir}); instances must not share or nest dirs (nested dirs)`,
        );
        continue;
      }
      if (instance.local && options.inspectPath) {
        const problem = existingPathProblem(dir, zoneOf(instance), checks);
        if (problem !== undefined) report(source, `${key} of ${instance.programName} ${problem}`);
      }
    }
  });
  return issues;
}

/** A dir of another instance on the same machine that `dir` is inside of (or equal to). */
function nestedIn(
  dir: string,
  self: ResolvedInstance,
  instances: readonly ResolvedInstance[],
  machineOf: (i: ResolvedInstance) => string,
): { instance: ResolvedInstance; dir: string; what: string } | undefined {
  for (const other of instances) {
    if (other === self || machineOf(other) !== machineOf(self)) continue;
    for (const { field, key } of INSTANCE_DIRS) {
      const otherDir = other[field];
      if (otherDir !== undefined && isWithin(dir, otherDir))
        return { instance: other, dir: otherDir, what: `the ${key}` };
    }
  }
  return undefined;
}

/**
 * Why the existing part of `dir` cannot hold the cluster's files: a file where a dir goes; within `zone`
 * (the cluster's own dirs) a symbolic link, a dir owned by an untrusted user or one anyone may rename
 * entries of; above the zone a symbolic link is the machine's own layout (/home on another disk), but where
 * it leads must still pass the placement rules. Undefined when the path is fine.
 */
function existingPathProblem(
  dir: string,
  zone: readonly string[],
  options: DirPlacementOptions,
): string | undefined {
  const inspect = options.inspectPath;
  if (inspect === undefined) return undefined;
  const parts = posix
    .normalize(dir)
    .split('/')
    .filter((p) => p !== '');
  let current = '/';
  let throughLink = false;
  let deepestExisting = '/';
  for (const part of parts) {
    current = posix.join(current, part);
    const facts = inspect(current);
    if (facts.kind === 'missing') break;
    deepestExisting = current;
    const inZone = zone.some((z) => isWithin(current, z));
    if (facts.kind === 'other')
      return `needs ${current} to be a directory, but it is a file (not a directory)`;
    if (facts.kind === 'link') {
      if (inZone)
        return `needs ${current} to be a real directory, but it is a symbolic link; mup never writes through a link in its own dirs: name the directory it points to (symbolic link)`;
      throughLink = true;
      continue;
    }
    if (!inZone) continue;
    const trusted = options.trustedOwners;
    if (trusted !== undefined && facts.uid !== undefined && !trusted.includes(facts.uid))
      return `needs ${current} to be owned by the deploy user, but its owner is uid ${facts.uid}; another user could swap what mup writes there: chown it or name another dir (dir owner)`;
    if (facts.mode !== undefined && (facts.mode & 0o002) !== 0 && (facts.mode & 0o1000) === 0)
      return `needs ${current} not to be writable by every user (mode ${facts.mode.toString(8)}): anyone could swap what mup writes there; chmod o-w it (dir owner)`;
  }
  if (throughLink && options.realPathOf) {
    const real = posix.join(options.realPathOf(deepestExisting), posix.relative(deepestExisting, dir));
    const problem = placementProblem(real);
    if (problem !== undefined)
      return `goes through a symbolic link: ${dir} ${problem.replace(/\(path confinement\)$/, '(path escape)')}`;
  }
  return undefined;
}
