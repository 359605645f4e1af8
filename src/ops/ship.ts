// MongoDB binaries for remote hosts: the cluster's bin dir is packed once on the control machine (cached in
// the store by its content listing, so the archive and its sha256 stay the same from run to run), uploaded to
// each host beside its supervisor dir with the sha256 checked there (skipped when the host already holds that
// archive), and unpacked into `<global deploy_dir>/packages/<key>`, which the instances' bin links point to.
// Local hosts use the bin dir itself.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { MupError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import type { Executor } from '../hosts/executor.js';

export interface PackedBinaries {
  /** Archive of the bin dir's files (tar.gz) on the control machine. */
  archive: string;
  sha256: string;
  /** Names the package on hosts: the same bin dir content, the same key. */
  key: string;
}

/** `<global deploy_dir>/packages` on a host: where its cluster's shipped binaries live. */
export function packagesDirOn(supervisorDir: string): string {
  return posix.join(posix.dirname(supervisorDir), 'packages');
}

/**
 * Packs `binDir` into the store (once for the same content) and returns the archive and its sha256, which is
 * kept beside the archive (`<archive>.sha256`: sum and size) so that later deploys do not read it again.
 */
export async function packBinaries(home: string, binDir: string): Promise<PackedBinaries> {
  const listing: string[] = [];
  for (const name of (await readdir(binDir)).sort()) {
    const info = await stat(join(binDir, name));
    listing.push(`${name}\0${info.size}\0${info.mtimeMs}\0${info.mode}`);
  }
  const key = createHash('sha256')
    .update(`${binDir}\n${listing.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(home, 'storage', 'ship');
  const archive = join(dir, `${key}.tar.gz`);
  const exists = await stat(archive).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${archive}.${process.pid}`;
    const local = executorFor({ host: 'localhost', local: true });
    const packed = await local.run('tar', ['-czf', temp, '-C', binDir, '.'], { timeoutMs: 600_000 });
    if (packed.exitCode !== 0) {
      await rm(temp, { force: true });
      throw new MupError(`cannot pack ${binDir} for remote hosts: ${packed.stderr.trim()}`);
    }
    await rename(temp, archive);
  }
  return { archive, sha256: await archiveSum(archive), key };
}

/** The archive's sha256: from its `.sha256` file when that names the archive's size, else computed and kept. */
async function archiveSum(archive: string): Promise<string> {
  const sumFile = `${archive}.sha256`;
  const { size } = await stat(archive);
  const kept = /^([0-9a-f]{64}) (\d+)$/.exec((await readFile(sumFile, 'utf8').catch(() => '')).trim());
  if (kept !== null && Number(kept[2]) === size) return kept[1] as string;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(archive, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  const sum = hash.digest('hex');
  await writeFileAtomic(sumFile, `${sum} ${size}\n`);
  return sum;
}

/**
 * Puts the packed binaries on a remote host and returns the bin dir there. The upload is skipped when the host
 * holds the same archive; unpacking is skipped when its dir was made from that archive (a marker file says so).
 */
export async function shipBinaries(
  executor: Executor,
  packed: PackedBinaries,
  supervisorDir: string,
): Promise<string> {
  const packages = packagesDirOn(supervisorDir);
  const remoteArchive = posix.join(packages, `${packed.key}.tar.gz`);
  const dir = posix.join(packages, packed.key);
  await executor.mkdir(packages, 0o750);
  await executor.upload(packed.archive, remoteArchive, { sha256: packed.sha256, mode: 0o640 });
  const script = [
    'set -e',
    'if [ "$(cat "$2/.mup-archive" 2>/dev/null)" = "$3" ]; then exit 0; fi',
    'rm -rf "$2.tmp"',
    'mkdir -p "$2.tmp"',
    'tar -xzf "$1" -C "$2.tmp"',
    'echo "$3" > "$2.tmp/.mup-archive"',
    'rm -rf "$2"',
    'mv "$2.tmp" "$2"',
  ].join('\n');
  const unpacked = await executor.run('sh', ['-c', script, 'sh', remoteArchive, dir, packed.sha256], {
    timeoutMs: 600_000,
  });
  if (unpacked.exitCode !== 0)
    throw new MupError(`cannot unpack the MongoDB binaries on ${executor.host}: ${unpacked.stderr.trim()}`, {
      hint: `check that tar and gzip are installed on ${executor.host} and that ${packages} is writable`,
    });
  return dir;
}
