// Unpacks a verified release archive (.tgz / .tar.gz) into a directory, dropping the archive's top-level
// folder (mongodb-linux-x86_64-<target>-<version>/, percona-server-mongodb-<version>/), and checks that the
// result is a server release: bin/mongod and bin/mongos, both executable files.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { ArchiveLayoutError } from './errors.js';

export async function extractArchive(archive: string, dest: string, archiveName: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  try {
    // tar refuses entries escaping `dest` (absolute paths, ..) by default; release archives hold hard links,
    // which it recreates inside `dest`.
    await tar.extract({ file: archive, cwd: dest, strip: 1 });
  } catch (error) {
    throw new ArchiveLayoutError(`cannot extract ${archiveName}: ${(error as Error).message}`);
  }
  await checkServerLayout(dest, archiveName);
}

export async function checkServerLayout(dir: string, archiveName: string): Promise<void> {
  for (const program of ['mongod', 'mongos']) {
    const path = join(dir, 'bin', program);
    let isFile = false;
    try {
      isFile = (await stat(path)).isFile();
    } catch {
      throw new ArchiveLayoutError(`${archiveName} has no bin/${program}`);
    }
    if (!isFile) throw new ArchiveLayoutError(`bin/${program} in ${archiveName} is not a file`);
    try {
      await access(path, constants.X_OK);
    } catch {
      throw new ArchiveLayoutError(`bin/${program} in ${archiveName} is not executable`);
    }
  }
}
