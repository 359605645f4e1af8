// Steps over a process's directories and files on its host: dirs, the data dir's owner mark, the bin link,
// the rendered mongod/mongos config, and their removal by destroy — only paths mup created, never a parent the
// user owns (a deploy dir goes only once empty). Each can run again harmlessly.
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MupError } from '../../errors.js';
import type { Executor } from '../../hosts/executor.js';
import type { Step } from '../../plan/types.js';
import { clusterTlsSettings } from '../../render/context.js';
import { renderInstanceConfig } from '../../render/instance-config.js';
import type { ResolvedInstance } from '../../topology/types.js';
import { OWNER_FILE, ownerFileContent } from '../data-dirs.js';
import { uidOn } from '../preflight.js';
import type { ClusterRuntime } from '../runtime.js';
import { packagesDirOn } from '../ship.js';

/**
 * The user a local host's processes run as when it is not the user running mup (mup runs as root and the
 * topology names `global.user`): the dirs mup makes for them become theirs. Undefined otherwise.
 */
export function otherRunAsUser(rt: ClusterRuntime, host: string): string | undefined {
  const resolved = rt.host(host);
  return resolved.local && resolved.user !== userInfo().username ? resolved.user : undefined;
}

export async function chown(executor: Executor, user: string, path: string): Promise<void> {
  // -h: a link is changed itself, never what it points to.
  const changed = await executor.run('chown', ['-h', '--', user, path]);
  if (changed.exitCode !== 0)
    throw new MupError(`cannot make ${user} the owner of ${path}: ${changed.stderr.trim()}`);
}

/** The components of `dir` that do not exist yet, top-down. */
export async function missingPart(executor: Executor, dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let current = dir; current !== dirname(current); current = dirname(current)) {
    if ((await executor.lstat(current)) !== undefined) break;
    missing.unshift(current);
  }
  return missing;
}

export function prepareInstanceStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `prepare:${instance.id}`,
    title: `create directories of ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: async () => {
      const executor = rt.executor(instance.host);
      const runAs = otherRunAsUser(rt, instance.host);
      const own = [instance.deployDir, instance.dataDir, instance.logDir, instance.configDir].filter(
        (dir): dir is string => dir !== undefined,
      );
      for (const dir of own) {
        const created = runAs === undefined ? [] : await missingPart(executor, dir);
        await executor.mkdir(dir, 0o750);
        // Dirs made on the way (the global deploy dir, a global data dir) stay mup's: the process user may
        // pass through them (o+x) but not rename what is in them, such as the supervisor dir.
        for (const made of created) {
          if (!own.includes(made)) await executor.run('chmod', ['0751', made]);
        }
      }
      if (runAs !== undefined) for (const dir of own) await chown(executor, runAs, dir);
      if (instance.dataDir !== undefined) {
        const ownerFile = join(instance.dataDir, OWNER_FILE);
        await executor.writeFile(
          ownerFile,
          ownerFileContent({ cluster: rt.meta.name, home: rt.store.home, instance: instance.id }),
          0o640,
        );
        if (runAs !== undefined) await chown(executor, runAs, ownerFile);
      }
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
  // The keyFile turns on internal authentication and, for mongod, access control (security.keyFile).
  const keyFile = rt.meta.auth ? rt.keyFilePath(instance.host) : undefined;
  const tls = rt.meta.tls === true ? clusterTlsSettings(rt.host(instance.host).supervisorDir) : undefined;
  return renderInstanceConfig(instance, rt.meta.topology, {
    clusterName: rt.meta.name,
    version: rt.meta.version,
    ...(keyFile === undefined ? {} : { security: { keyFile } }),
    ...(tls === undefined ? {} : { tls }),
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
      const runAs = otherRunAsUser(rt, instance.host);
      // Written but not yet handed to the process user (an interrupted step): the process could not read it.
      if (
        runAs !== undefined &&
        (await executor.lstat(instance.configFile))?.uid !== (await uidOn(executor, runAs))
      )
        return false;
      return (await executor.readFile(instance.configFile)).toString('utf8') === renderedConfig(rt, instance);
    },
    run: async () => {
      const executor = rt.executor(instance.host);
      await executor.writeFile(instance.configFile, renderedConfig(rt, instance), 0o640);
      const runAs = otherRunAsUser(rt, instance.host);
      if (runAs !== undefined) await chown(executor, runAs, instance.configFile);
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

function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** `anchor`, then each path below it down to `path` (both included); just `path` when it is not beneath. */
function chainFrom(anchor: string, path: string): string[] {
  if (!isWithin(path, anchor)) return [path];
  const chain = [anchor];
  for (const part of path
    .slice(anchor.length)
    .split('/')
    .filter((p) => p !== '')) {
    chain.push(`${chain[chain.length - 1]}/${part}`);
  }
  return chain;
}

/**
 * Destroy removes only what mup created and never follows a symbolic link: a dir it made may have been
 * replaced by a link since (by whoever can write its parent), and following it would delete an unrelated
 * directory's files. Each removal walks down from an anchor, a dir mup created, with lstat: a link on the
 * way is unlinked itself (unless it leads to data kept by --keep-data) and nothing beneath it is touched.
 */
class ConfinedRemoval {
  constructor(
    private readonly executor: Executor,
    private readonly removed: string[],
    private readonly log: (message: string) => void,
    /** Paths that must survive (kept data dirs): a link leading to one stays. */
    private readonly kept: readonly string[] = [],
  ) {}

  /**
   * Removes `path` (a file, a dir tree or a link) found by walking down from `anchor`; `linkExpected` when
   * mup made `path` a link itself (the deploy dir's bin), so unlinking it is no news.
   */
  async remove(path: string, anchor: string, linkExpected = false): Promise<void> {
    checkRemovable(path);
    const chain = chainFrom(anchor, path);
    for (const [index, current] of chain.entries()) {
      const found = await this.executor.lstat(current);
      if (found === undefined) return;
      if (found.kind === 'symlink') {
        await this.unlink(current, linkExpected && current === path);
        return;
      }
      const last = index === chain.length - 1;
      if (!last && found.kind !== 'dir') return;
      if (last) {
        await this.executor.remove(current);
        this.removed.push(`${this.executor.host}:${current}`);
      }
    }
  }

  /** rmdir `dir` when it is a real, empty directory reached without a link. */
  async removeIfEmpty(dir: string, anchor: string): Promise<boolean> {
    for (const current of chainFrom(anchor, dir)) {
      if ((await this.executor.lstat(current))?.kind !== 'dir') return false;
    }
    return (await this.executor.run('rmdir', [dir])).exitCode === 0;
  }

  private async unlink(link: string, expected: boolean): Promise<void> {
    checkRemovable(link);
    if (this.kept.some((path) => isWithin(path, link))) {
      this.log(`${link} is a symbolic link leading to kept data: left as it is`);
      return;
    }
    // rm on a link removes the link, never what it points at.
    await this.executor.remove(link);
    this.removed.push(`${this.executor.host}:${link}`);
    if (!expected) this.log(`${link} was a symbolic link: removed the link only, nothing it points at`);
  }
}

/** The outermost of the instance's own dirs that holds `path`: removals walk down from it. */
function anchorOf(instance: ResolvedInstance, path: string): string {
  const own = [instance.deployDir, instance.dataDir, instance.logDir, instance.configDir].filter(
    (dir): dir is string => dir !== undefined && isWithin(path, dir),
  );
  return own.sort((a, b) => a.length - b.length)[0] ?? path;
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
    run: async (context) => {
      const executor = rt.executor(instance.host);
      const kept = keepData && instance.dataDir !== undefined ? [instance.dataDir] : [];
      const removal = new ConfinedRemoval(executor, removed, (m) => context.log(m), kept);
      const remove = (path: string) => removal.remove(path, anchorOf(instance, path));
      for (const path of [instance.configFile, instance.logFile, instance.outputFile, instance.pidFile]) {
        await remove(path);
      }
      await removal.remove(instance.binDir, anchorOf(instance, instance.binDir), true);
      // Rotated captures: <program>.out.1, .2 ...
      for (let i = 1; i <= 10; i++) await remove(`${instance.outputFile}.${i}`);
      if (instance.dataDir && !keepData) await remove(instance.dataDir);
      for (const dir of [instance.configDir, instance.logDir, instance.deployDir]) {
        await removal.removeIfEmpty(dir, anchorOf(instance, dir));
      }
      // An absolute global data/log/config dir holds one `<role>-<port>` subdir per instance; like the global
      // deploy dir, it goes once the last instance's subdir is gone (rmdir fails while anything is left).
      for (const dir of [instance.dataDir, instance.logDir, instance.configDir]) {
        if (dir === undefined || basename(dir) !== instance.programName) continue;
        const parent = dirname(dir);
        if (parent !== instance.deployDir && isDeep(parent)) await removal.removeIfEmpty(parent, parent);
      }
      // The deploy dir's empty parents up to the global deploy dir (which the supervisor step removes).
      const stopAt = dirname(rt.host(instance.host).supervisorDir);
      for (
        let dir = dirname(instance.deployDir);
        isWithin(dir, stopAt) && dir !== stopAt;
        dir = dirname(dir)
      ) {
        if (!(await removal.removeIfEmpty(dir, dir))) break;
      }
      return undefined;
    },
  };
}

export function removeSupervisorStep(rt: ClusterRuntime, host: string, removed: string[]): Step {
  return {
    id: `remove-supervisor:${host}`,
    title: `remove supervisord files on ${host}`,
    host,
    run: async (context) => {
      const dir = rt.host(host).supervisorDir;
      const removal = new ConfinedRemoval(rt.executor(host), removed, (m) => context.log(m));
      await removal.remove(dir, dirname(dir));
      // Binaries shipped to a remote host (a local host uses the control machine's cache: nothing there).
      if (!rt.host(host).local) await removal.remove(packagesDirOn(dir), dirname(dir));
      // The global deploy dir, once nothing of any cluster is left in it.
      await removal.removeIfEmpty(dirname(dir), dirname(dir));
      return undefined;
    },
  };
}
