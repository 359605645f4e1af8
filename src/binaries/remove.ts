// `mup mongo remove <version>`: deletes cached packages of one exact version (every target, or one), each
// under its lock so a concurrent install of the same package never sees it half-deleted.
import { UsageError } from '../errors.js';
import { discard, type InstalledPackage, listPackages, withPackageLock } from './package-store.js';
import type { Variant } from './source.js';

export interface RemoveFilter {
  version: string;
  variant?: Variant | undefined;
  target?: string | undefined;
  /** Names of the clusters whose binaries are in a package dir; such a package is kept unless `force`. */
  clustersUsing?: ((packageDir: string) => readonly string[]) | undefined;
  force?: boolean | undefined;
}

export async function removePackages(home: string, filter: RemoveFilter): Promise<InstalledPackage[]> {
  const matches = (await listPackages(home)).filter(
    (p) =>
      p.version === filter.version &&
      (filter.variant === undefined || p.variant === filter.variant) &&
      (filter.target === undefined || p.target === filter.target),
  );
  if (matches.length === 0)
    throw new UsageError(
      `${filter.variant === 'percona' ? 'Percona Server for MongoDB' : 'MongoDB'} ${filter.version} is not installed`,
      'run `mup mongo list` to see the installed versions',
    );
  // A cluster runs its mongod from the cache (bin is a symlink into it): removing it breaks the next start.
  const inUse = filter.force
    ? []
    : matches.flatMap((pkg) => (filter.clustersUsing?.(pkg.dir) ?? []).map((cluster) => ({ pkg, cluster })));
  if (inUse.length > 0) {
    const names = [...new Set(inUse.map((u) => u.cluster))];
    throw new UsageError(
      `${filter.version} is used by cluster${names.length > 1 ? 's' : ''} ${names.join(', ')} (${[...new Set(inUse.map((u) => u.pkg.name))].join(', ')}); removing it would stop ${names.length > 1 ? 'them' : 'it'} from starting again`,
      'destroy or upgrade those clusters first, or pass --force to remove it anyway',
    );
  }
  const removed: InstalledPackage[] = [];
  for (const pkg of matches) {
    await withPackageLock(home, pkg.name, async () => {
      await discard(home, pkg.dir);
    });
    removed.push(pkg);
  }
  return removed;
}
