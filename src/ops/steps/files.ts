// Steps over a process's directories and files on its host: dirs, the data dir's owner mark, the bin link,
// the rendered mongod/mongos config, and their removal by destroy — only paths mup created, never a parent the
// user owns (a deploy dir goes only once empty). Each can run again harmlessly.
import { basename, dirname, join } from 'node:path';
import { MupError } from '../../errors.js';
import type { Executor } from '../../hosts/executor.js';
import type { Step } from '../../plan/types.js';
import { renderInstanceConfig } from '../../render/instance-config.js';
import type { ResolvedInstance } from '../../topology/types.js';
import { OWNER_FILE, ownerFileContent } from '../data-dirs.js';
import type { ClusterRuntime } from '../runtime.js';
import { packagesDirOn } from '../ship.js';

export function prepareInstanceStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `prepare:${instance.id}`,
    title: `create directories of ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: async () => {
      const executor = rt.executor(instance.host);
      for (const dir of [instance.deployDir, instance.dataDir, instance.logDir, instance.configDir]) {
        if (dir !== undefined) await executor.mkdir(dir, 0o750);
      }
      if (instance.dataDir !== undefined)
        await executor.writeFile(
          join(instance.dataDir, OWNER_FILE),
          ownerFileContent({ cluster: rt.meta.name, home: rt.store.home, instance: instance.id }),
          0o640,
        );
      // The deploy dir's bin links to the version's binaries (locally the cache, remotely the copy shipped
      // to the host), so an upgrade is a link change.
      const binaries = await rt.binaryDirOn(instance.host);
      const linked = await executor.run('ln', ['-sfn', binaries, instance.binDir]);
      if (linked.exitCode !== 0)
        throw new MupError(`cannot link ${instance.binDir} → ${binaries}: ${linked.stderr.trim()}`);
      return undefined;
    },
  };
}

export function renderedConfig(rt: ClusterRuntime, instance: ResolvedInstance): string {
  return renderInstanceConfig(instance, rt.meta.topology, {
    clusterName: rt.meta.name,
    version: rt.meta.version,
  });
}

export function writeConfigStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `config:${instance.id}`,
    title: `write ${instance.configFile} on ${instance.host}`,
    host: instance.host,
    isDone: async () => {
      const executor = rt.executor(instance.host);
      if (!(await executor.exists(instance.configFile))) return false;
      return (await executor.readFile(instance.configFile)).toString('utf8') === renderedConfig(rt, instance);
    },
    run: async () => {
      await rt.executor(instance.host).writeFile(instance.configFile, renderedConfig(rt, instance), 0o640);
      return undefined;
    },
  };
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

export function removeInstanceStep(
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

export function removeSupervisorStep(rt: ClusterRuntime, host: string, removed: string[]): Step {
  return {
    id: `remove-supervisor:${host}`,
    title: `remove supervisord files on ${host}`,
    host,
    run: async () => {
      const executor = rt.executor(host);
      const dir = rt.host(host).supervisorDir;
      await removePath(executor, dir, removed);
      // Binaries shipped to a remote host (a local host uses the control machine's cache: nothing there).
      if (!rt.host(host).local) await removePath(executor, packagesDirOn(dir), removed);
      // The global deploy dir, once nothing of any cluster is left in it.
      await executor.run('rmdir', [dirname(dir)]);
      return undefined;
    },
  };
}
