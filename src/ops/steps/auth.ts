// Steps that secure a new cluster: the keyFile on every host (before any process starts with it), and the
// admin user, created through the localhost exception once a primary (or a mongos) can take it.
import { dirname } from 'node:path';
import { MupError } from '../../errors.js';
import type { Executor } from '../../hosts/executor.js';
import { pollUntil, type ServerAddress } from '../../mongo/connect.js';
import { isPrimary } from '../../mongo/member.js';
import { createRootUser, credentialsWork } from '../../mongo/users.js';
import type { Step } from '../../plan/types.js';
import { isAtLeast, parseMongoVersion } from '../../render/mongo-version.js';
import type { ResolvedInstance, ResolvedReplicaSet } from '../../topology/types.js';
import { uidOn } from '../preflight.js';
import type { ClusterRuntime } from '../runtime.js';
import { chown, missingPart, otherRunAsUser } from './files.js';

/** mongod refuses a keyFile readable by group or others ("permissions on ... are too open"). */
export const KEYFILE_MODE = 0o400;

export function writeKeyFileStep(rt: ClusterRuntime, host: string): Step {
  const path = rt.keyFilePath(host);
  const key = rt.authSecrets?.keyFile;
  if (path === undefined || key === undefined)
    throw new MupError(`cluster '${rt.meta.name}' has no keyFile for ${host}`);
  return writeProcessSecretsStep(rt, host, {
    id: `keyfile:${host}`,
    title: `write the cluster keyFile ${path} on ${host}`,
    files: async () => [{ path, content: key }],
  });
}

/** A file only the process user may read, with where it goes on the host. */
export interface ProcessSecretFile {
  path: string;
  content: string;
}

/**
 * Writes files that mongod/mongos read as the user they run as (global.user), which must own them: 0400
 * allows no one else. The files go in the host's supervisor dir, which that user's group may pass through.
 */
export function writeProcessSecretsStep(
  rt: ClusterRuntime,
  host: string,
  spec: { id: string; title: string; files: () => Promise<ProcessSecretFile[]> },
): Step {
  const runAs = otherRunAsUser(rt, host);
  return {
    id: spec.id,
    title: spec.title,
    host,
    isDone: async () => {
      const executor = rt.executor(host);
      for (const { path, content } of await spec.files()) {
        if (!(await executor.exists(path)) || (await executor.readFile(path)).toString('utf8') !== content)
          return false;
        // Written but not yet handed to the process user (an interrupted step): the process could not read it.
        if (runAs !== undefined && (await executor.lstat(path))?.uid !== (await uidOn(executor, runAs)))
          return false;
      }
      return true;
    },
    run: async () => {
      const executor = rt.executor(host);
      for (const { path, content } of await spec.files()) {
        // The supervisor dir may be made here first (0700, as supervisord's own files want it); for another
        // process user, dirs made on the way stay passable (o+x), as the instances' prepare steps leave them.
        const dir = dirname(path);
        const created = runAs === undefined ? [] : await missingPart(executor, dir);
        await executor.mkdir(dir, 0o700);
        for (const made of created) if (made !== dir) await executor.run('chmod', ['0751', made]);
        // Atomic (temp file + rename), so an existing 0400 copy is replaced rather than written through.
        await executor.writeFile(path, content, KEYFILE_MODE);
        if (runAs !== undefined) {
          await chown(executor, runAs, path);
          await letGroupThrough(executor, runAs, dir);
        }
      }
      return undefined;
    },
  };
}

/**
 * The keyFile (and TLS files) sit in the supervisor dir (0700, mup's): the process user's group may pass
 * through it (0710) to reach them by name, and still list nothing, nor read supervisor.ini (0600) with its
 * API password.
 */
async function letGroupThrough(executor: Executor, user: string, dir: string): Promise<void> {
  const group = await executor.run('id', ['-g', '--', user]);
  const gid = group.stdout.trim();
  if (group.exitCode !== 0 || !/^\d+$/.test(gid))
    throw new MupError(`cannot find the group of ${user}: ${group.stderr.trim()}`);
  for (const [command, args] of [
    ['chgrp', ['-h', '--', gid, dir]],
    ['chmod', ['0710', dir]],
  ] as const) {
    const done = await executor.run(command, [...args]);
    if (done.exitCode !== 0)
      throw new MupError(`cannot let ${user} reach the files in ${dir}: ${done.stderr.trim()}`);
  }
}

/** Where the admin user is created: a replica set's primary, a standalone mongod, or a mongos. */
export type AdminUserTarget =
  | { kind: 'replica-set'; set: ResolvedReplicaSet }
  | { kind: 'instance'; instance: ResolvedInstance };

function targetName(target: AdminUserTarget): string {
  return target.kind === 'replica-set' ? target.set.name : target.instance.id;
}

const PRIMARY_TIMEOUT_MS = 60_000;

/** The set's current primary, asked over plain hello (it needs no authentication). */
async function findPrimary(rt: ClusterRuntime, set: ResolvedReplicaSet): Promise<ServerAddress> {
  const members = rt.instances.filter((i) => set.members.includes(i.id) && !i.member?.arbiterOnly);
  const found = await pollUntil(async () => {
    for (const member of members) {
      const plain = rt.address(member, 'anonymous');
      if (await isPrimary(plain).catch(() => false)) return plain;
    }
    return undefined;
  }, PRIMARY_TIMEOUT_MS);
  if (!found) throw new MupError(`replica set ${set.name} has no primary to create the admin user on`);
  return found;
}

/**
 * Creates the admin user (root) over an unauthenticated loopback connection, the localhost exception.
 * Resumable: done once the stored password authenticates; a user an interrupted attempt created is accepted.
 */
export function createAdminUserStep(rt: ClusterRuntime, target: AdminUserTarget): Step {
  const credentials = rt.credentials('admin');
  if (credentials === undefined) throw new MupError(`cluster '${rt.meta.name}' has no admin credentials`);
  const name = targetName(target);
  const where = async (): Promise<ServerAddress> =>
    target.kind === 'replica-set' ? findPrimary(rt, target.set) : rt.address(target.instance, 'anonymous');
  return {
    id: `admin-user:${name}`,
    title:
      target.kind === 'instance' && target.instance.role === 'mongos'
        ? `create the admin user ${credentials.username} through ${name}`
        : `create the admin user ${credentials.username} on ${name}`,
    ...(target.kind === 'instance' ? { host: target.instance.host } : {}),
    isDone: async () => credentialsWork(await where(), credentials),
    run: async () => {
      const address = await where();
      const options = { scramSha256: isAtLeast(parseMongoVersion(rt.meta.version), '4.0.0') };
      // The localhost exception holds only for a connection from the host itself: a remote host's process is
      // reached through an SSH tunnel to its loopback address.
      const outcome = rt.host(address.host).local
        ? await createRootUser(address, credentials, options)
        : await throughTunnel(rt, address, (local) => createRootUser(local, credentials, options));
      return outcome === 'created'
        ? `created ${credentials.toString()}`
        : `${credentials.toString()} existed`;
    },
  };
}

/** Runs `use` against `address` reached through a tunnel to the host's own loopback address. */
async function throughTunnel<T>(
  rt: ClusterRuntime,
  address: ServerAddress,
  use: (local: ServerAddress) => Promise<T>,
): Promise<T> {
  const executor = rt.executor(address.host);
  if (executor.forwardPort === undefined)
    throw new MupError(`cannot reach ${address.host}:${address.port} from the host itself (no tunnel)`);
  const tunnel = await executor.forwardPort(address.port);
  try {
    // Through the tunnel the server's certificate is still checked against the host's own name.
    const tls = address.tls === undefined ? undefined : { ...address.tls, serverName: address.host };
    return await use({ host: tunnel.host, port: tunnel.port, ...(tls ? { tls } : {}) });
  } finally {
    await tunnel.close();
  }
}
