// Everything an operation needs to act on a stored cluster: an executor per host, its supervisord, the
// program control, and addresses of the processes. One place decides how a host is reached, so remote
// hosts come in by adding an executor here, not by touching each operation.
import { posix } from 'node:path';
import { MupError } from '../errors.js';
import { executorFor } from '../hosts/connect.js';
import type { Executor } from '../hosts/executor.js';
import type { AuthSecrets } from '../meta/auth-secrets.js';
import {
  type ClusterMeta,
  ClusterStore,
  SECRET_ADMIN_PASSWORD,
  SECRET_KEYFILE,
  type SupervisorEndpoint,
} from '../meta/store.js';
import { clusterTlsPaths } from '../meta/tls-paths.js';
import type { ServerAddress, TlsClient } from '../mongo/connect.js';
import { keyFileCredentials, MongoCredentials } from '../mongo/credentials.js';
import { SupervisorDaemon } from '../supervisor/daemon.js';
import type { ProgramControl } from '../supervisor/programs.js';
import type { ResolvedHost, ResolvedInstance } from '../topology/types.js';
import { type PackedBinaries, packBinaries, shipBinaries } from './ship.js';

export const SUPERVISOR_USERNAME = 'mup';
export const SUPERVISOR_PASSWORD_SECRET = 'supervisor-password';

/**
 * Who a connection authenticates as on a cluster with auth: the admin user (everything mup does once the
 * cluster is deployed), or the keyFile's `__system` identity for the deploy steps that run before the admin
 * user exists (replSetStepUp and addShard are outside the localhost exception's privileges), or no one
 * (hello, and the localhost exception itself).
 */
export type Identity = 'admin' | 'system' | 'anonymous';

/** The keyFile's name in each host's supervisor dir (removed with it by destroy). */
export const KEYFILE_NAME = 'keyfile';

export class ClusterRuntime {
  private readonly packed = new Map<string, Promise<PackedBinaries>>();
  private readonly shipped = new Map<string, Promise<string>>();

  constructor(
    readonly meta: ClusterMeta,
    readonly store: ClusterStore,
    readonly supervisorPassword: string,
    /** The keyFile and admin password; required when `meta.auth` is on. */
    readonly authSecrets?: AuthSecrets,
    private readonly executors = new Map<string, Executor>(),
    private readonly daemons = new Map<string, SupervisorDaemon>(),
  ) {
    if (meta.auth && (authSecrets === undefined || meta.security === undefined))
      throw new MupError(`cluster '${meta.name}' has auth but no stored credentials`, {
        hint: `the cluster store is incomplete: ${store.secretsDir(meta.name)} should hold ${SECRET_KEYFILE} and ${SECRET_ADMIN_PASSWORD}`,
      });
  }

  /**
   * The same cluster seen through another meta (the topology a scale operation leads to), sharing this
   * runtime's executors and daemon connections: closing this one closes both.
   */
  withMeta(meta: ClusterMeta): ClusterRuntime {
    return new ClusterRuntime(
      meta,
      this.store,
      this.supervisorPassword,
      this.authSecrets,
      this.executors,
      this.daemons,
    );
  }

  /** For read-only commands: the stored cluster of this home, without the lock. */
  static async load(home: string, name: string): Promise<ClusterRuntime> {
    const store = new ClusterStore(home);
    return ClusterRuntime.open(store, await store.read(name));
  }

  static async open(store: ClusterStore, meta: ClusterMeta): Promise<ClusterRuntime> {
    const password = await store.readSecret(meta.name, SUPERVISOR_PASSWORD_SECRET);
    if (password === undefined) {
      throw new MupError(
        `cluster '${meta.name}' has no supervisor password in ${store.secretsDir(meta.name)}`,
        {
          hint: 'the cluster store is incomplete; restore it from a backup or destroy and redeploy the cluster',
        },
      );
    }
    return new ClusterRuntime(meta, store, password, await loadAuthSecrets(store, meta));
  }

  /** The credentials of `identity`, or none for a cluster without auth. */
  credentials(identity: Identity = 'admin'): MongoCredentials | undefined {
    const secrets = this.authSecrets;
    const security = this.meta.security;
    if (!this.meta.auth || secrets === undefined || security === undefined) return undefined;
    if (identity === 'anonymous') return undefined;
    return identity === 'system'
      ? keyFileCredentials(secrets.keyFile)
      : new MongoCredentials(security.adminUser, secrets.adminPassword, 'admin');
  }

  /** A process's address, with the credentials mup connects with, and TLS on a TLS cluster. */
  address(instance: ResolvedInstance, identity: Identity = 'admin'): ServerAddress {
    const credentials = this.credentials(identity);
    const tls = this.tlsClient();
    return {
      host: instance.host,
      port: instance.port,
      ...(credentials ? { credentials } : {}),
      ...(tls ? { tls } : {}),
    };
  }

  /** How mup reaches the processes of a TLS cluster: trusting the cluster CA kept in the store. */
  tlsClient(): TlsClient | undefined {
    return tlsClientOf(this.store, this.meta);
  }

  /** The keyFile's path on `hostName`, when the cluster has auth. */
  keyFilePath(hostName: string): string | undefined {
    const security = this.meta.security;
    if (!this.meta.auth || security === undefined) return undefined;
    // A host the cluster did not run on when it was deployed (scale-out) gets its keyFile where deploy puts one.
    const supervisorDir = this.meta.topology.hosts.find((h) => h.host === hostName)?.supervisorDir;
    return (
      security.keyFiles.find((k) => k.host === hostName)?.path ??
      (supervisorDir === undefined ? undefined : posix.join(supervisorDir, KEYFILE_NAME))
    );
  }

  get instances(): ResolvedInstance[] {
    return this.meta.topology.instances;
  }

  host(name: string): ResolvedHost {
    const host = this.meta.topology.hosts.find((h) => h.host === name);
    if (!host) throw new MupError(`host ${name} is not part of cluster '${this.meta.name}'`);
    return host;
  }

  executor(hostName: string): Executor {
    let executor = this.executors.get(hostName);
    if (!executor) {
      executor = executorFor(this.host(hostName));
      this.executors.set(hostName, executor);
    }
    return executor;
  }

  /**
   * A bin dir of the control machine (default: the cluster's) as seen on a host: the dir itself locally; on a
   * remote host the shipped copy (packed and uploaded once per run, dir and host, whichever step asks first).
   */
  binaryDirOn(hostName: string, binaryDir = this.meta.binaryDir): Promise<string> {
    const host = this.host(hostName);
    if (host.local) return Promise.resolve(binaryDir);
    const key = `${hostName}\0${binaryDir}`;
    let shipped = this.shipped.get(key);
    if (shipped === undefined) {
      let packed = this.packed.get(binaryDir);
      if (packed === undefined) {
        const packing = packBinaries(this.store.home, binaryDir);
        packing.catch(() => {
          if (this.packed.get(binaryDir) === packing) this.packed.delete(binaryDir);
        });
        this.packed.set(binaryDir, packing);
        packed = packing;
      }
      const shipping = packed.then((p) => shipBinaries(this.executor(hostName), p, host.supervisorDir));
      // A failed shipment (a lost link) is tried again by the next step that needs it, e.g. on resume.
      shipping.catch(() => {
        if (this.shipped.get(key) === shipping) this.shipped.delete(key);
      });
      this.shipped.set(key, shipping);
      shipped = shipping;
    }
    return shipped;
  }

  endpoint(hostName: string): SupervisorEndpoint {
    const endpoint = this.meta.supervisors.find((s) => s.host === hostName);
    if (!endpoint)
      throw new MupError(`cluster '${this.meta.name}' has no supervisor endpoint for ${hostName}`);
    return endpoint;
  }

  daemon(hostName: string): SupervisorDaemon {
    let daemon = this.daemons.get(hostName);
    if (!daemon) {
      const host = this.host(hostName);
      daemon = new SupervisorDaemon(this.executor(hostName), {
        cluster: this.meta.name,
        supervisorDir: host.supervisorDir,
        httpPort: this.endpoint(hostName).httpPort,
        username: SUPERVISOR_USERNAME,
        password: this.supervisorPassword,
      });
      this.daemons.set(hostName, daemon);
    }
    return daemon;
  }

  /**
   * Moves the host's supervisor API to another port: recorded in the stored meta, and the daemon handle bound
   * to the old port is dropped. Only when another program holds the old port: this cluster's daemon is not there.
   */
  async moveSupervisorPort(hostName: string, httpPort: number): Promise<void> {
    const endpoint = { ...this.endpoint(hostName), httpPort };
    const move = (list: SupervisorEndpoint[]) => list.map((s) => (s.host === hostName ? endpoint : s));
    const stored = await this.store.read(this.meta.name);
    await this.store.write({ ...stored, supervisors: move(stored.supervisors) });
    this.meta.supervisors = move(this.meta.supervisors);
    const old = this.daemons.get(hostName);
    this.daemons.delete(hostName);
    await old?.close().catch(() => undefined);
  }

  programs(hostName: string): Promise<ProgramControl> {
    return this.daemon(hostName).programs();
  }

  instancesOn(hostName: string): ResolvedInstance[] {
    return this.instances.filter((i) => i.host === hostName);
  }

  async close(): Promise<void> {
    await Promise.all([...this.daemons.values()].map((d) => d.close().catch(() => undefined)));
  }
}

/** How a client on this machine reaches a TLS cluster: trusting its CA certificate in the store. */
export function tlsClientOf(store: ClusterStore, meta: ClusterMeta): TlsClient | undefined {
  if (meta.tls !== true) return undefined;
  return { caFile: clusterTlsPaths(store.secretsDir(meta.name)).caFile };
}

/** The stored keyFile and admin password of a cluster with auth; none without auth. */
export async function loadAuthSecrets(
  store: ClusterStore,
  meta: ClusterMeta,
): Promise<AuthSecrets | undefined> {
  if (!meta.auth) return undefined;
  const keyFile = await store.readSecret(meta.name, SECRET_KEYFILE);
  const adminPassword = await store.readSecret(meta.name, SECRET_ADMIN_PASSWORD);
  if (keyFile === undefined || adminPassword === undefined) return undefined;
  return { keyFile, adminPassword };
}

/** Start order: config servers, then shard / replica-set / standalone mongods, then mongos. */
export const ROLE_ORDER = ['config', 'mongod', 'mongos'] as const;
