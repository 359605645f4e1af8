// The cluster store on the control machine: storage/clusters/<name>/ holds meta.yaml (written atomically,
// previous copy kept as meta.yaml.bak), secrets/ (0700 dir, 0600 files), the lock and the ops journals.
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { parse, stringify } from 'yaml';
import type { z } from 'zod';
import { ExitCode, MupError, UsageError } from '../errors.js';
import type { TopologySpec } from '../topology/schema.js';
import type { ResolvedTopology } from '../topology/types.js';
import { specFromResolved } from './migrations.js';
import { metaSchemaV1, metaSchemaV2 } from './schema.js';

export const META_SCHEMA_VERSION = 2;

/** The state the last operation left the cluster in (what should run); display shows what does run. */
export type ClusterStatus = 'deploying' | 'running' | 'stopped' | 'partial' | 'destroying';

/** Per host: where its supervisord listens (loopback only) and its config file. */
export interface SupervisorEndpoint {
  host: string;
  httpPort: number;
  configFile: string;
}

export interface ClusterMeta {
  schemaVersion: number;
  name: string;
  /** Resolved exact version, e.g. 7.0.14. */
  version: string;
  variant: 'mongodb' | 'percona' | 'simulator';
  status: ClusterStatus;
  createdAt: string;
  updatedAt: string;
  /** Directory holding bin/mongod and bin/mongos for this version on the control machine. */
  binaryDir: string;
  /** The topology as the user wrote it (global, server_configs, member options), allocated ports pinned. */
  spec: TopologySpec;
  topology: ResolvedTopology;
  supervisors: SupervisorEndpoint[];
  /** `security.authorization` enabled with a keyFile and an admin user. */
  auth: boolean;
  /** Present when `auth` is on: the admin user's name and each host's keyFile path. */
  security?: ClusterSecurity;
  /**
   * TLS required on every port (`--tls` / `global.tls`): each host holds the cluster CA and its certificate
   * in its supervisor dir; the CA's key stays in the store (secrets/tls/).
   */
  tls?: boolean;
  /** True for clusters created by `mup playground`. */
  playground?: boolean;
  /** Edited but not yet reloaded: `applied` is the topology the processes still run with. */
  pending?: PendingChanges;
  /** Deploy registered each host's supervisord with the host's init (`--no-boot-start` opts out). */
  bootStart?: boolean;
}

export interface PendingChanges {
  /** When the first unapplied edit was stored. */
  since: string;
  applied: ResolvedTopology;
}

export interface ClusterSecurity {
  adminUser: string;
  keyFiles: { host: string; path: string }[];
}

/** Secret file names under secrets/ (0600 each). */
export const SECRET_KEYFILE = 'keyfile';
export const SECRET_ADMIN_PASSWORD = 'admin-password';

export class CorruptMetaError extends MupError {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`, {
      hint: `fix the file by hand or restore the previous copy: cp ${path}.bak ${path}`,
    });
  }
}

/** The first few schema problems, each with its path in the document (`topology.instances.0.port: ...`). */
function describeSchemaIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(document)'}: ${issue.message}`)
    .join('; ');
}

const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkClusterName(name: string): void {
  if (!NAME_RULE.test(name)) {
    throw new UsageError(
      `invalid cluster name '${name}'`,
      'use 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    );
  }
}

export class ClusterNotFoundError extends MupError {
  constructor(name: string) {
    // Exit 2 like every "not found": the name given was wrong, nothing was changed.
    super(`cluster '${name}' not found`, {
      exitCode: ExitCode.usage,
      hint: 'run `mup cluster list` to see the clusters mup manages',
    });
  }
}

export class ClusterStore {
  readonly clustersDir: string;

  constructor(readonly home: string) {
    this.clustersDir = join(home, 'storage', 'clusters');
  }

  clusterDir(name: string): string {
    checkClusterName(name);
    return join(this.clustersDir, name);
  }

  metaPath(name: string): string {
    return join(this.clusterDir(name), 'meta.yaml');
  }

  lockPath(name: string): string {
    return join(this.clusterDir(name), 'lock');
  }

  opsDir(name: string): string {
    return join(this.clusterDir(name), 'ops');
  }

  secretsDir(name: string): string {
    return join(this.clusterDir(name), 'secrets');
  }

  /** Creates the cluster's directory (0700: it holds the lock, journals and secrets). */
  async ensureClusterDir(name: string): Promise<string> {
    const dir = this.clusterDir(name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.metaPath(name));
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.clustersDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const withMeta: string[] = [];
    for (const name of names.sort()) {
      if (NAME_RULE.test(name) && (await this.exists(name))) withMeta.push(name);
    }
    return withMeta;
  }

  async read(name: string): Promise<ClusterMeta> {
    let text: string;
    try {
      text = await readFile(this.metaPath(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ClusterNotFoundError(name);
      throw error;
    }
    return parseMeta(text, this.metaPath(name), name);
  }

  /** Every cluster's meta, or the error reading it: one corrupt meta never hides the others. */
  async readAll(): Promise<{ name: string; meta?: ClusterMeta; error?: MupError }[]> {
    const entries = [];
    for (const name of await this.list()) {
      try {
        entries.push({ name, meta: await this.read(name) });
      } catch (error) {
        if (!(error instanceof MupError)) throw error;
        entries.push({ name, error });
      }
    }
    return entries;
  }

  /** Writes meta.yaml atomically, keeping the previous copy as meta.yaml.bak. */
  async write(meta: ClusterMeta): Promise<void> {
    const path = this.metaPath(meta.name);
    await this.ensureClusterDir(meta.name);
    try {
      await copyFile(path, `${path}.bak`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const document = { ...meta, schemaVersion: META_SCHEMA_VERSION, updatedAt: new Date().toISOString() };
    await writeFileAtomic(path, stringify(document), { mode: 0o600 });
  }

  async remove(name: string): Promise<void> {
    await rm(this.clusterDir(name), { recursive: true, force: true });
  }

  async writeSecret(name: string, key: string, value: string): Promise<string> {
    const dir = this.secretsDir(name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const path = join(dir, key);
    await writeFileAtomic(path, value, { mode: 0o600 });
    return path;
  }

  async readSecret(name: string, key: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.secretsDir(name), key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** Parses and checks meta.yaml text; a v1 document is migrated. Every error names the file. */
export function parseMeta(text: string, path: string, name: string): ClusterMeta {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new CorruptMetaError(path, `not valid YAML: ${(error as Error).message}`);
  }
  const version =
    typeof document === 'object' && document !== null
      ? (document as { schemaVersion?: unknown }).schemaVersion
      : undefined;
  if (version === 1) {
    const v1 = metaSchemaV1.safeParse(document);
    if (!v1.success) throw new CorruptMetaError(path, describeSchemaIssues(v1.error));
    const old = document as Omit<ClusterMeta, 'spec'>;
    return checkName(
      {
        ...old,
        ...securityFields(v1.data),
        schemaVersion: META_SCHEMA_VERSION,
        spec: specFromResolved(old.topology),
      },
      path,
      name,
    );
  }
  if (version !== META_SCHEMA_VERSION) {
    if (typeof version === 'number' && version > META_SCHEMA_VERSION)
      throw new MupError(
        `${path}: meta schema version ${version} is newer than this mup reads (${META_SCHEMA_VERSION})`,
        { hint: 'use the mup version that wrote this cluster, or a newer one' },
      );
    throw new CorruptMetaError(
      path,
      version === undefined
        ? 'not a mup cluster meta (no schemaVersion)'
        : `unknown meta schema version ${String(version)}`,
    );
  }
  const checked = metaSchemaV2.safeParse(document);
  if (!checked.success) throw new CorruptMetaError(path, describeSchemaIssues(checked.error));
  return checkName({ ...(document as ClusterMeta), ...securityFields(checked.data) }, path, name);
}

/**
 * The auth fields as the schema read them (defaults applied: a meta written before auth existed reads as
 * `auth: false`); the rest of the document is kept as written, so that reading never reshapes the spec.
 */
function securityFields(parsed: { auth: boolean; security?: ClusterSecurity | undefined }) {
  return { auth: parsed.auth, ...(parsed.security === undefined ? {} : { security: parsed.security }) };
}

function checkName(meta: ClusterMeta, path: string, name: string): ClusterMeta {
  if (meta.name !== name)
    throw new CorruptMetaError(path, `it names cluster '${meta.name}', but it is stored as '${name}'`);
  return meta;
}
