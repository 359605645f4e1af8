// `mup cluster connect` / `mup playground connect`: run a MongoDB shell against the cluster's URI.
// mongosh when it is on PATH; otherwise the legacy `mongo` shell shipped with servers before 6.0.
// On a cluster with auth the password must not be on the shell's command line (any local user sees it in
// `ps`): the shell starts with --nodb and runs a script that connects, from a 0600 file in the cluster's
// 0700 secrets dir, removed when the shell exits. Both shells run script files given as arguments before
// the prompt with --shell, and `connect(uri)` authenticates with the URI's user and password.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { MupError } from '../errors.js';
import { ClusterStore } from '../meta/store.js';
import { credentialUri, primaryUri } from '../mongo/uri.js';
import { ClusterRuntime, tlsClientOf } from './runtime.js';

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
  const store = new ClusterStore(home);
  const meta = await store.read(name);
  const shell = await findShell(meta.binaryDir);
  const tls = tlsClientOf(store, meta);
  if (!meta.auth) return runShell(shell, [primaryUri(meta.topology, tls), ...extraArgs]);
  const rt = await ClusterRuntime.open(store, meta);
  const credentials = rt.credentials('admin');
  await rt.close();
  if (credentials === undefined) throw new MupError(`cluster '${name}' has no stored admin credentials`);
  const script = `// mup cluster connect ${name}: removed when the shell exits\ndb = connect(${JSON.stringify(credentialUri(meta.topology, credentials, tls))});\n`;
  const file = await store.writeSecret(
    name,
    `connect-${process.pid}-${randomBytes(4).toString('hex')}.js`,
    script,
  );
  try {
    return await runShell(shell, ['--nodb', '--shell', ...extraArgs, file]);
  } finally {
    await rm(file, { force: true });
  }
}

function runShell(shell: string, args: readonly string[]): Promise<number> {
  const child = spawn(shell, args, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
