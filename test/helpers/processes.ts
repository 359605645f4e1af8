// Observing what a cluster left on the machine: supervisord daemons by their config file, and file trees.
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

function mountNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/**
 * pids of the live processes whose command line passes `keep`, in this process's mount namespace only:
 * files that deploy into system dirs run concurrently in private mount namespaces, where the same paths
 * (/opt/mongodb/...) name another test's files, so a process of theirs is not one of ours.
 */
export function pidsWhoseArgs(keep: (args: string) => boolean): number[] {
  const ours = mountNamespaceOf('self');
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && keep(line))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => isAlive(pid) && mountNamespaceOf(pid) === ours);
}

/** pids of supervisord daemons started with the given supervisor.ini. */
export function supervisordPidsFor(configFile: string): number[] {
  return pidsWhoseArgs((args) => /\bsupervisord\b/.test(args) && args.includes(configFile));
}

/** Every file, dir and link under `root`, as sorted paths relative to it (dirs end in '/'); [] if absent. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        out.push(`${relative(root, path)}/`);
        await walk(path);
      } else out.push(relative(root, path));
    }
  };
  await walk(root);
  return out.sort();
}

/** True when a process with this pid runs (an exited one nobody reaped yet, a zombie, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; the comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
