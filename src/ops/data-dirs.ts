// Whose data a data dir holds. Deploy writes a small owner file into every data dir it prepares and refuses
// a data dir that already holds anything else: another cluster's data (perhaps deployed from another
// MUP_HOME, so absent from this store), or a MongoDB data dir mup did not create. Starting a mongod on
// someone else's data, or initiating a replica set over it, is not a mistake to find out about afterwards.
// Data kept by `destroy --keep-data` is taken back by a deploy of the same cluster name from the same
// MUP_HOME.
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { UsageError } from '../errors.js';
import type { Executor } from '../hosts/executor.js';
import type { AuthSecrets } from '../meta/auth-secrets.js';
import type { KeptPort } from '../topology/resolve.js';
import type { ResolvedInstance } from '../topology/types.js';

export const OWNER_FILE = '.mup-owner.json';

export interface DataDirOwner {
  cluster: string;
  /** The MUP_HOME whose store holds the cluster. */
  home: string;
  /** host:port of the member whose data it is: kept data only fits the member it came from. */
  instance: string;
}

export function ownerFileContent(owner: DataDirOwner): string {
  return `${JSON.stringify({ cluster: owner.cluster, home: owner.home, instance: owner.instance })}\n`;
}

/** What a freshly made filesystem holds at its root; a volume mounted as a data dir is still empty. */
const FILESYSTEM_ENTRIES = new Set(['lost+found']);

async function readOwner(executor: Executor, dir: string): Promise<DataDirOwner | undefined> {
  try {
    const parsed = JSON.parse((await executor.readFile(join(dir, OWNER_FILE))).toString('utf8')) as unknown;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as DataDirOwner).cluster === 'string' &&
      typeof (parsed as DataDirOwner).home === 'string' &&
      typeof (parsed as DataDirOwner).instance === 'string'
    )
      return parsed as DataDirOwner;
  } catch {
    // Missing or unreadable: the directory was not prepared by mup.
  }
  return undefined;
}

async function entriesOf(executor: Executor, dir: string): Promise<string[]> {
  const listed = await executor.run('ls', ['-A', dir]);
  if (listed.exitCode !== 0) throw new UsageError(`cannot read data dir ${dir}: ${listed.stderr.trim()}`);
  return listed.stdout.split('\n').filter((name) => name !== '' && !FILESYSTEM_ENTRIES.has(name));
}

/**
 * Refuses (exit 2, every problem at once) data dirs that hold data not kept for this cluster; returns the
 * data dirs whose kept data the deploy takes back.
 */
export async function checkDataDirsFree(
  instances: readonly ResolvedInstance[],
  owner: Omit<DataDirOwner, 'instance'>,
  executorFor: (host: string) => Executor,
): Promise<string[]> {
  const problems: string[] = [];
  const reused: string[] = [];
  for (const instance of instances) {
    const dir = instance.dataDir;
    if (dir === undefined) continue;
    const executor = executorFor(instance.host);
    if (!(await executor.exists(dir))) continue;
    const entries = await entriesOf(executor, dir);
    if (entries.length === 0) continue;
    const found = await readOwner(executor, dir);
    const where = `data dir ${dir} of ${instance.id}`;
    if (found === undefined) {
      const shown = entries.slice(0, 4).join(', ') + (entries.length > 4 ? ', …' : '');
      problems.push(`${where} already holds files mup did not put there (${shown})`);
    } else if (found.cluster !== owner.cluster || found.home !== owner.home) {
      problems.push(`${where} holds the data of cluster "${found.cluster}" (MUP_HOME ${found.home})`);
    } else if (found.instance !== instance.id) {
      // Its replica-set config names the member it came from; under another host:port it would never rejoin.
      problems.push(`${where} holds the kept data of ${found.instance}, another member of this cluster`);
    } else reused.push(`${instance.host}:${dir}`);
  }
  if (problems.length > 0)
    throw new UsageError(
      problems.join('\n'),
      'give this cluster other data dirs (data_dir or deploy_dir), or remove a directory whose data is not needed',
    );
  return reused;
}

/**
 * Where `destroy --keep-data` records the kept members' ports (the cluster's own dir goes with the cluster):
 * a later deploy of the same name gives each `port: 0` member its port back, and with it its data dir.
 */
function keptPortsFile(home: string, cluster: string): string {
  return join(home, 'storage', 'kept-data', `${cluster}.json`);
}

export async function recordKeptPorts(
  home: string,
  cluster: string,
  instances: readonly ResolvedInstance[],
): Promise<void> {
  const kept: KeptPort[] = instances
    .filter((i) => i.dataDir !== undefined)
    .map((i) => ({ host: i.host, role: i.role, replicaSet: i.replicaSet, port: i.port }));
  await mkdir(join(home, 'storage', 'kept-data'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(keptPortsFile(home, cluster), `${JSON.stringify({ cluster, kept }, null, 2)}\n`, {
    mode: 0o600,
  });
}

/** The ports kept for `cluster`; none when nothing was kept (or the record is unreadable). */
export async function readKeptPorts(home: string, cluster: string): Promise<KeptPort[]> {
  try {
    const parsed = JSON.parse(await readFile(keptPortsFile(home, cluster), 'utf8')) as { kept?: unknown };
    if (!Array.isArray(parsed.kept)) return [];
    return parsed.kept.filter(
      (k): k is KeptPort =>
        typeof k === 'object' &&
        k !== null &&
        typeof (k as KeptPort).host === 'string' &&
        typeof (k as KeptPort).role === 'string' &&
        Number.isInteger((k as KeptPort).port),
    );
  } catch {
    return [];
  }
}

export async function forgetKeptPorts(home: string, cluster: string): Promise<void> {
  await rm(keptPortsFile(home, cluster), { force: true });
  await rm(keptSecretsDir(home, cluster), { recursive: true, force: true });
}

/**
 * The kept data of a cluster with auth holds its admin user (and the members' replica-set config): a redeploy
 * must authenticate as that user, and the localhost exception is closed once a user exists. So destroy
 * --keep-data keeps the keyFile and admin password too (0600 files in a 0700 dir, as the cluster's secrets).
 */
function keptSecretsDir(home: string, cluster: string): string {
  return join(home, 'storage', 'kept-data', `${cluster}.secrets`);
}

const KEPT_KEYFILE = 'keyfile';
const KEPT_ADMIN_PASSWORD = 'admin-password';

/** Writes files into the kept secrets dir of `cluster` (0700 dir, 0600 files). */
async function writeKept(home: string, cluster: string, files: Record<string, string>): Promise<void> {
  const dir = keptSecretsDir(home, cluster);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const [name, value] of Object.entries(files))
    await writeFileAtomic(join(dir, name), value, { mode: 0o600 });
}

/** Reads files of the kept secrets dir of `cluster`; undefined unless every one is there. */
async function readKept(
  home: string,
  cluster: string,
  names: readonly string[],
): Promise<string[] | undefined> {
  const dir = keptSecretsDir(home, cluster);
  const values = await Promise.all(
    names.map((name) => readFile(join(dir, name), 'utf8').catch(() => undefined)),
  );
  return values.every((value) => value !== undefined) ? (values as string[]) : undefined;
}

export async function recordKeptSecrets(home: string, cluster: string, secrets: AuthSecrets): Promise<void> {
  await writeKept(home, cluster, {
    [KEPT_KEYFILE]: secrets.keyFile,
    [KEPT_ADMIN_PASSWORD]: secrets.adminPassword,
  });
}

const KEPT_CA = 'tls-ca.pem';
const KEPT_CA_KEY = 'tls-ca-key.pem';

/** A cluster CA: its certificate and private key (PEM). */
export interface KeptCa {
  cert: string;
  key: string;
}

/**
 * A TLS cluster's CA goes with its kept data too: clients that trust it (and the URIs mup printed, which name
 * it) keep working once a deploy takes the data back, instead of meeting certificates of a new CA.
 */
export async function recordKeptCa(home: string, cluster: string, ca: KeptCa): Promise<void> {
  await writeKept(home, cluster, { [KEPT_CA]: ca.cert, [KEPT_CA_KEY]: ca.key });
}

/** The CA kept with the data of `cluster`, or undefined when there is none (or only half of it). */
export async function readKeptCa(home: string, cluster: string): Promise<KeptCa | undefined> {
  const found = await readKept(home, cluster, [KEPT_CA, KEPT_CA_KEY]);
  return found === undefined ? undefined : { cert: found[0] as string, key: found[1] as string };
}

/** The secrets kept with the data of `cluster`, or undefined when there are none (or only part of them). */
export async function readKeptSecrets(home: string, cluster: string): Promise<AuthSecrets | undefined> {
  const found = await readKept(home, cluster, [KEPT_KEYFILE, KEPT_ADMIN_PASSWORD]);
  return found === undefined ? undefined : { keyFile: found[0] as string, adminPassword: found[1] as string };
}
