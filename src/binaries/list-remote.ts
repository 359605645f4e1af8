// `mup mongo list --remote`: the versions the source offers, newest first, with the targets available for
// the platform's architecture and the one mup would choose for it.

import { downloadArch } from './release-list.js';
import { type BinaryContext, hostFor, type ReleaseChoice, releaseListFor } from './resolve.js';
import { rankCandidates } from './targets.js';
import { compareVersions, isProduction } from './versions.js';

export interface RemoteVersion {
  version: string;
  production: boolean;
  /** Targets with an archive for the architecture. */
  targets: string[];
  /** The target mup would install on the platform; undefined when none fits. */
  bestTarget: string | undefined;
}

export interface RemoteListing {
  variant: string;
  source: string;
  arch: string;
  versions: RemoteVersion[];
}

export async function listRemoteVersions(
  ctx: BinaryContext,
  options: ReleaseChoice & { includeDevelopment?: boolean } = {},
): Promise<RemoteListing> {
  const variant = ctx.variant ?? 'mongodb';
  const host = await hostFor(ctx, options);
  const list = await releaseListFor(ctx);
  const source = ctx.mirror ?? (variant === 'mongodb' ? 'downloads.mongodb.org' : 'downloads.percona.com');
  if (!list) return { variant, source, arch: host.arch, versions: [] };
  const versions = list.versions
    .filter((entry) => options.includeDevelopment || isProduction(entry, variant))
    .sort((a, b) => compareVersions(b.version, a.version, variant))
    .map((entry) => ({
      version: entry.version,
      production: isProduction(entry, variant),
      targets: [
        ...new Set(
          entry.downloads
            .filter(
              (d) => downloadArch(d) === host.arch && (variant !== 'mongodb' || d.edition !== 'enterprise'),
            )
            .map((d) => d.target ?? 'linux'),
        ),
      ].sort(),
      bestTarget: rankCandidates(entry, host, variant)[0]?.target,
    }));
  return { variant, source, arch: host.arch, versions };
}
