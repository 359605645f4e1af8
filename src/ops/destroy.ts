// `mup cluster destroy`: stop everything, remove supervisord configs, deploy and log dirs, data dirs unless
// --keep-data (which really keeps them), then the cluster store. Only paths mup created are removed, never a
// parent the user owns: a deploy dir is removed only once it is empty.
import { basename, dirname } from 'node:path';
import { MupError, UsageError } from '../errors.js';
import type { Executor } from '../hosts/executor.js';
import { ClusterStore } from '../meta/store.js';
import type { Phase, Step } from '../plan/types.js';
import type { ResolvedInstance } from '../topology/types.js';
import { lockCluster, type OperationOptions, runJournaled } from './apply.js';
import { buildStopPlan } from './plans.js';
import { type ClusterRuntime, ClusterRuntime as Runtime } from './runtime.js';

export interface DestroyResult {
  schemaVersion: 1;
  cluster: string;
  keptData: string[];
  removed: string[];
}

function isDeep(path: string): boolean {
  return path.startsWith('/') && path.split('/').filter((p) => p.length > 0).length >= 2;
}

/** Refuses to delete anything shallow or outside an absolute path: a wrong meta must never wipe a system dir. */
function checkRemovable(path: string): void {
  if (!isDeep(path)) throw new MupError(`refusing to remove ${path}: not a deep absolute path`);
}

async function removePath(executor: Executor, path: string, removed: string[]): Promise<void> {
  checkRemovable(path);
  if (await executor.exists(path)) {
    await executor.remove(path);
    removed.push(`${executor.host}:${path}`);
  }
}

/** rmdir each dir from `path` upwards while empty, stopping at `stopAt` (exclusive). */
async function removeEmptyParents(executor: Executor, path: string, stopAt: string): Promise<void> {
  let dir = path;
  while (dir.startsWith(`${stopAt}/`) || dir === path) {
    const result = await executor.run('rmdir', [dir]);
    if (result.exitCode !== 0) return;
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function removeInstanceStep(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  keepData: boolean,
  removed: string[],
): Step {
  return {
    id: `remove:${instance.id}`,
    title: `remove files of ${instance.programName} on ${instance.host}${keepData && instance.dataDir ? ' (keeping data)' : ''}`,
    host: instance.host,
    run: async () => {
      const executor = rt.executor(instance.host);
      const paths = [
        instance.configFile,
        instance.logFile,
        instance.outputFile,
        instance.pidFile,
        instance.binDir,
      ];
      for (const path of paths) await removePath(executor, path, removed);
      // Rotated captures: <program>.out.1, .2 ...
      for (let i = 1; i <= 10; i++) await removePath(executor, `${instance.outputFile}.${i}`, removed);
      if (instance.dataDir && !keepData) await removePath(executor, instance.dataDir, removed);
      for (const dir of [instance.configDir, instance.logDir, instance.deployDir]) {
        await executor.run('rmdir', [dir]);
      }
      // An absolute global data/log/config dir holds one `<role>-<port>` subdir per instance; like the global
      // deploy dir, it goes once the last instance's subdir is gone (rmdir fails while anything is left).
      for (const dir of [instance.dataDir, instance.logDir, instance.configDir]) {
        if (dir === undefined || basename(dir) !== instance.programName) continue;
        const parent = dirname(dir);
        if (parent !== instance.deployDir && isDeep(parent)) await executor.run('rmdir', [parent]);
      }
      await removeEmptyParents(executor, instance.deployDir, dirname(rt.host(instance.host).supervisorDir));
      return undefined;
    },
  };
}

function removeSupervisorStep(rt: ClusterRuntime, host: string, removed: string[]): Step {
  return {
    id: `remove-supervisor:${host}`,
    title: `remove supervisord files on ${host}`,
    host,
    run: async () => {
      const executor = rt.executor(host);
      const dir = rt.host(host).supervisorDir;
      await removePath(executor, dir, removed);
      // The global deploy dir, once nothing of any cluster is left in it.
      await executor.run('rmdir', [dirname(dir)]);
      return undefined;
    },
  };
}

export async function destroyCluster(
  name: string,
  keepData: boolean,
  options: OperationOptions & { confirmDestroy?: (name: string) => Promise<boolean> },
): Promise<DestroyResult> {
  const store = new ClusterStore(options.home);
  const meta = await store.read(name);
  if (!options.yes && options.confirmDestroy && !(await options.confirmDestroy(name))) {
    throw new UsageError('destroy cancelled', 'nothing was changed');
  }
  const lock = await lockCluster(store, name, `mup cluster destroy ${name}`);
  const rt = await Runtime.open(store, meta);
  const removed: string[] = [];
  try {
    const hosts = meta.topology.hosts.map((h) => h.host);
    const stop = buildStopPlan(rt, {}).phases.filter(
      (p) => p.name.startsWith('stop-') || p.name === 'supervisord',
    );
    const phases: Phase[] = [
      ...stop,
      {
        name: 'remove',
        title: 'Remove process files',
        parallel: true,
        steps: meta.topology.instances.map((i) => removeInstanceStep(rt, i, keepData, removed)),
      },
      // After the instances, so that the global deploy dir is empty when its removal is tried.
      {
        name: 'remove-supervisor',
        title: 'Remove supervisord files',
        parallel: true,
        steps: hosts.map((h) => removeSupervisorStep(rt, h, removed)),
      },
    ];
    await store.write({ ...meta, status: 'destroying' });
    await runJournaled(store, { operation: 'destroy', cluster: name, phases }, { keepData }, options);
  } finally {
    await rt.close();
    await lock.release();
  }
  await store.remove(name);
  const keptData = keepData
    ? meta.topology.instances.flatMap((i) => (i.dataDir ? [`${i.host}:${i.dataDir}`] : []))
    : [];
  return { schemaVersion: 1, cluster: name, keptData, removed };
}
