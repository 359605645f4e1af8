// Checks that an unpacked release (archive top folder dropped) is a server release: bin/mongod and
// bin/mongos, both executable files.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveLayoutError } from './errors.js';

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
