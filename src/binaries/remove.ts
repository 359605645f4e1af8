// `mup mongo remove <version>`: deletes cached packages of one exact version (every target, or one), each
// under its lock so a concurrent install of the same package never sees it half-deleted.
import { UsageError } from '../errors.js';
import { discard, type InstalledPackage, listPackages, withPackageLock } from './package-store.js';
import type { Variant } from './source.js';

export interface RemoveFilter {
  version: string;
  variant?: Variant | undefined;
  target?: string | undefined;
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
  const removed: InstalledPackage[] = [];
  for (const pkg of matches) {
    await withPackageLock(home, pkg.name, async () => {
      await discard(home, pkg.dir);
    });
    removed.push(pkg);
  }
  return removed;
}
