// `mup cluster connect` / `mup playground connect`: run a MongoDB shell against the cluster's URI.
// mongosh when it is on PATH; otherwise the legacy `mongo` shell shipped with servers before 6.0.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { MupError } from '../errors.js';
import { ClusterStore } from '../meta/store.js';
import { primaryUri } from '../mongo/uri.js';

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(program: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await executable(join(dir, program)))) return join(dir, program);
  }
  return undefined;
}

export async function findShell(binaryDir: string): Promise<string> {
  const found =
    (await onPath('mongosh')) ??
    ((await executable(join(binaryDir, 'mongo'))) ? join(binaryDir, 'mongo') : undefined) ??
    (await onPath('mongo'));
  if (!found) {
    throw new MupError('no MongoDB shell found (mongosh, or mongo for servers before 6.0)', {
      hint: 'install mongosh (https://www.mongodb.com/docs/mongodb-shell/install/) or use the URI with any driver',
    });
  }
  return found;
}

/** Runs the shell attached to this terminal; resolves with its exit code. */
export async function connectShell(
  home: string,
  name: string,
  extraArgs: readonly string[] = [],
): Promise<number> {
  const meta = await new ClusterStore(home).read(name);
  const shell = await findShell(meta.binaryDir);
  const child = spawn(shell, [primaryUri(meta.topology), ...extraArgs], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
