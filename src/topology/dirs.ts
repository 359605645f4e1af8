// Directory rules (TiUP's): an absolute instance dir wins; a relative instance dir is under the
// instance's deploy dir; an unset instance deploy dir is `<global deploy_dir>/<role>-<port>`; relative deploy
// dirs are under the login user's home on that host; `~` is that home. Paths are POSIX: hosts are Linux or macOS.
import { posix } from 'node:path';

export const DEFAULT_DIRS = {
  deploy_dir: 'mongo-deploy',
  data_dir: 'data',
  log_dir: 'log',
  config_dir: 'conf',
} as const;

/** `~` and `~/x` become the home dir; other paths are returned unchanged. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return posix.join(home, path.slice(2));
  return path;
}

/** A deploy dir: absolute as is, relative under the login user's home. */
export function resolveDeployBase(path: string, home: string): string {
  const expanded = expandHome(path, home);
  return posix.isAbsolute(expanded) ? posix.normalize(expanded) : posix.join(home, expanded);
}

export interface InstanceDirInput {
  /** `<role>-<port>`, the instance's own name under shared dirs. */
  name: string;
  home: string;
  /** The global deploy dir already resolved for this host. */
  globalDeployDir: string;
  instanceDeployDir: string | undefined;
}

export function resolveInstanceDeployDir(input: InstanceDirInput): string {
  if (input.instanceDeployDir !== undefined) return resolveDeployBase(input.instanceDeployDir, input.home);
  return posix.join(input.globalDeployDir, input.name);
}

/**
 * data_dir, log_dir or config_dir of one instance. The instance value wins (absolute as is, relative under
 * its deploy dir); else an absolute global value gets a `<role>-<port>` subdir so instances never share one;
 * else the relative global value (or the default) is under the instance's deploy dir.
 */
export function resolveInstanceSubDir(
  instanceValue: string | undefined,
  globalValue: string,
  deployDir: string,
  name: string,
  home: string,
): string {
  if (instanceValue !== undefined) {
    const expanded = expandHome(instanceValue, home);
    return posix.isAbsolute(expanded) ? posix.normalize(expanded) : posix.join(deployDir, expanded);
  }
  const expanded = expandHome(globalValue, home);
  return posix.isAbsolute(expanded) ? posix.join(expanded, name) : posix.join(deployDir, expanded);
}
