// The one apply path. Every verb that changes a cluster is an OperationSpec — its arguments (a zod schema, so
// a journal's arguments are checked again on resume), the live facts it reads, a pure plan builder and how it
// is confirmed — and `applyOperation` runs them all the same way: lock → read meta under the lock → gather
// facts → build the plan → dry-run or confirm → journal → run → release. `resumeOperation` continues the last
// interrupted one from its journal. Adding a verb is a spec and a line in registry.ts.
import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';
import { ExitCode, MupError, UsageError } from '../errors.js';
import type { AuthSecrets } from '../meta/auth-secrets.js';
import {
  type ClusterMeta,
  ClusterNotFoundError,
  ClusterStore,
  SECRET_ADMIN_PASSWORD,
  SECRET_KEYFILE,
} from '../meta/store.js';
import { clusterTlsPaths } from '../meta/tls-paths.js';
import type { ProgressView } from '../plan/events.js';
import { Journal, listOperations, newOperationId, type OperationRecord } from '../plan/journal.js';
import { acquireClusterLock, type ClusterLock } from '../plan/lock.js';
import { runPlan } from '../plan/runner.js';
import { outlinePlan, type Plan, type PlanOutline, type PlanTarget } from '../plan/types.js';
import type { KeptCa } from './data-dirs.js';
import { planTarget } from './plan-target.js';
import { ClusterRuntime, loadAuthSecrets, SUPERVISOR_PASSWORD_SECRET } from './runtime.js';

export interface OperationOptions {
  home: string;
  /** Do not ask for confirmation. */
  yes: boolean;
  /** Parallel host/process operations within a phase. */
  concurrency: number;
  /** Build and return the plan; change nothing (no lock, no journal). */
  dryRun?: boolean;
  /** Shows the plan's progress (task list, plain lines or JSON events). */
  progress?: ProgressView;
  /** Asks "apply this plan?"; resolves false to cancel. Called only when `yes` is false. */
  confirm?: (outline: PlanOutline) => Promise<boolean>;
  /** Asks the user to type the cluster name (destroy). Called only when `yes` is false. */
  confirmTyped?: (cluster: string) => Promise<boolean>;
  /** The command line journaled for `mup cluster audit`, secrets already masked. */
  commandLine?: string;
  /** Aborted on SIGINT/SIGTERM: the run stops, journals the step in flight and exits 130. */
  signal?: AbortSignal;
}

export interface OperationSpec<A extends Record<string, unknown>, F> {
  /** Journaled as the operation's name; the registry key. */
  name: string;
  /** The operation's arguments as journaled; resume checks them with this schema again. */
  args: z.ZodType<A>;
  /**
   * `plan`: show the plan and ask; `typed`: the cluster name must be typed (destroy); `none` (default): never
   * ask. A function decides from the arguments (stop asks for a whole cluster, not for a -N/-R selection).
   */
  confirm?: ConfirmKind | ((args: A) => ConfirmKind);
  /** Input checks that need the stored cluster but change nothing; run before the lock is taken. */
  validate?(meta: ClusterMeta, args: A): void;
  /** Live facts the plan depends on (who is primary ...), read before building it. */
  gather?(rt: ClusterRuntime, args: A): Promise<F>;
  /**
   * Folds facts the plan's steps depend on into the journaled arguments, so that `cluster resume` rebuilds
   * the same steps once running them changed those facts (start's unsupervised members).
   */
  pin?(args: A, facts: F): A;
  /** The plan, from the stored cluster, the arguments and the facts alone: no I/O. */
  plan(rt: ClusterRuntime, args: A, facts: F): Plan;
  /**
   * The cluster as the plan leaves it, shown with the plan (default: the stored cluster, or the one deploy
   * builds); `undefined` when nothing is left (destroy).
   */
  target?(rt: ClusterRuntime, args: A, facts: F): PlanTarget | undefined;
  /** After the plan succeeded (a first run or a resume), e.g. destroy forgets the cluster. */
  finish?(rt: ClusterRuntime, args: A): Promise<void>;
}

export type ConfirmKind = 'plan' | 'typed' | 'none';

/** A spec with its types closed over: what the registry holds and the runner calls. */
export interface Operation {
  readonly name: string;
  /** How these arguments are confirmed. */
  confirmFor(rawArgs: unknown): ConfirmKind;
  validate(meta: ClusterMeta, rawArgs: unknown): void;
  prepare(rt: ClusterRuntime, rawArgs: unknown): Promise<PreparedOperation>;
}

export interface PreparedOperation {
  args: Record<string, unknown>;
  plan: Plan;
  finish(): Promise<void>;
}

export class BadOperationArgumentsError extends MupError {
  constructor(operation: string, error: z.ZodError) {
    const problems = error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
    super(`arguments of ${operation} do not fit this mup: ${problems}`, {
      exitCode: ExitCode.usage,
      hint: 'the journal was written by another mup version; finish it with that version, or start the operation again',
    });
  }
}

export function defineOperation<A extends Record<string, unknown>, F = undefined>(
  spec: OperationSpec<A, F>,
): Operation {
  const parse = (raw: unknown): A => {
    const parsed = spec.args.safeParse(raw);
    if (!parsed.success) throw new BadOperationArgumentsError(spec.name, parsed.error);
    return parsed.data;
  };
  return {
    name: spec.name,
    confirmFor: (raw) =>
      typeof spec.confirm === 'function' ? spec.confirm(parse(raw)) : (spec.confirm ?? 'none'),
    validate: (meta, raw) => spec.validate?.(meta, parse(raw)),
    prepare: async (rt, raw) => {
      const args = parse(raw);
      const facts = spec.gather ? await spec.gather(rt, args) : (undefined as F);
      const pinned = spec.pin ? spec.pin(args, facts) : args;
      const plan = spec.plan(rt, pinned, facts);
      const target = spec.target ? spec.target(rt, pinned, facts) : planTarget(rt.meta, rt.meta.topology);
      return {
        args: pinned,
        plan: target === undefined ? plan : { ...plan, target },
        finish: async () => {
          await spec.finish?.(rt, args);
        },
      };
    },
  };
}

/** JSON result of every mutating verb (verbs add their own fields). */
export interface OperationOutcome {
  schemaVersion: 1;
  cluster: string;
  operation: string;
  dryRun: boolean;
  /** Absent for a dry run. */
  opId?: string;
  plan: PlanOutline;
  /** What the steps gathered for the verb's result (Plan.report), e.g. destroy's `removed`. */
  [reported: string]: unknown;
}

export interface LoadedCluster {
  meta: ClusterMeta;
  /** supervisord's API password. */
  password: string;
  /** keyFile and admin password of a cluster with auth. */
  authSecrets?: AuthSecrets | undefined;
  /** Deploy only: the CA a TLS cluster's kept data was served with (destroy --keep-data), stored again. */
  keptCa?: KeptCa | undefined;
}

/** A cluster to operate on: stored (every verb but deploy) or about to be created (deploy). */
export interface ClusterSource {
  /** Reads (or builds) the meta; called under the lock, and before it for a dry run. */
  load(store: ClusterStore): Promise<LoadedCluster>;
  /** True when the operation creates the cluster: meta and secret are written once the plan is confirmed. */
  creates: boolean;
}

function storedCluster(name: string): ClusterSource {
  return {
    creates: false,
    load: async (store) => {
      const meta = await store.read(name);
      const password = await store.readSecret(name, SUPERVISOR_PASSWORD_SECRET);
      if (password === undefined)
        throw new MupError(`cluster '${name}' has no supervisor password in ${store.secretsDir(name)}`, {
          hint: 'the cluster store is incomplete; restore it from a backup or destroy and redeploy the cluster',
        });
      return { meta, password, authSecrets: await loadAuthSecrets(store, meta) };
    },
  };
}

async function dirExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function lockFor(store: ClusterStore, cluster: string, command: string): Promise<ClusterLock> {
  await store.ensureClusterDir(cluster);
  return acquireClusterLock(store.lockPath(cluster), cluster, command);
}

async function confirmPlan(
  op: Operation,
  args: unknown,
  plan: Plan,
  options: OperationOptions,
): Promise<void> {
  const kind = op.confirmFor(args);
  if (options.yes || kind === 'none') return;
  const ok =
    kind === 'typed'
      ? await options.confirmTyped?.(plan.cluster)
      : await options.confirm?.(outlinePlan(plan));
  if (ok === false) throw new UsageError(`${op.name} cancelled`, 'nothing was changed');
}

async function runJournaled(
  prepared: PreparedOperation,
  journal: Journal,
  options: OperationOptions,
  completedSteps?: ReadonlySet<string>,
): Promise<void> {
  options.progress?.start(outlinePlan(prepared.plan));
  try {
    await runPlan(prepared.plan, {
      concurrency: options.concurrency,
      journal,
      ...(completedSteps ? { completedSteps } : {}),
      ...(options.progress ? { onEvent: options.progress.event } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    await options.progress?.end();
    await journal.close();
  }
  await prepared.finish();
}

function outcome(prepared: PreparedOperation, dryRun: boolean, opId?: string): OperationOutcome {
  const report = prepared.plan.report?.();
  return {
    ...report,
    schemaVersion: 1,
    cluster: prepared.plan.cluster,
    operation: prepared.plan.operation,
    dryRun,
    ...(opId === undefined ? {} : { opId }),
    plan: outlinePlan(prepared.plan),
  };
}

/** Runs one operation on a cluster, start to end (see the file header). */
export async function applyOperation(
  op: Operation,
  cluster: string,
  rawArgs: unknown,
  options: OperationOptions,
  source: ClusterSource = storedCluster(cluster),
): Promise<OperationOutcome> {
  const store = new ClusterStore(options.home);
  store.clusterDir(cluster); // checks the name
  if (!source.creates) {
    // Input errors before anything is created, even a lock file.
    if (!(await store.exists(cluster))) throw new ClusterNotFoundError(cluster);
    op.validate(await store.read(cluster), rawArgs);
  }
  if (options.dryRun) {
    if (source.creates && (await store.exists(cluster))) throw clusterExists(cluster);
    const { meta, password, authSecrets } = await source.load(store);
    const rt = new ClusterRuntime(meta, store, password, authSecrets);
    try {
      return outcome(await op.prepare(rt, rawArgs), true);
    } finally {
      await rt.close();
    }
  }

  // What the lock will create, so that a deploy refused before it stored anything can leave no trace.
  const missingDirs: string[] = [];
  for (const dir of [join(options.home, 'storage'), store.clustersDir, store.clusterDir(cluster)])
    if (!(await dirExists(dir))) missingDirs.push(dir);
  let stored = !source.creates;
  const lock = await lockFor(store, cluster, `mup cluster ${op.name} ${cluster}`);
  let rt: ClusterRuntime | undefined;
  try {
    // Under the lock: a deploy of a name another command is deploying is refused as locked (exit 3) above,
    // one of a name that exists here; and the cluster may have changed since the checks above.
    if (source.creates && (await store.exists(cluster))) throw clusterExists(cluster);
    const { meta, password, authSecrets, keptCa } = await source.load(store);
    rt = new ClusterRuntime(meta, store, password, authSecrets);
    op.validate(meta, rawArgs);
    const prepared = await op.prepare(rt, rawArgs);
    await confirmPlan(op, prepared.args, prepared.plan, options);
    if (options.signal?.aborted)
      throw new UsageError(`${op.name} interrupted before it began`, 'nothing was changed');
    if (source.creates) {
      // The resolved topology (allocated ports included) is stored before anything runs: resume reuses it.
      await store.writeSecret(cluster, SUPERVISOR_PASSWORD_SECRET, password);
      if (authSecrets !== undefined) {
        await store.writeSecret(cluster, SECRET_KEYFILE, authSecrets.keyFile);
        await store.writeSecret(cluster, SECRET_ADMIN_PASSWORD, authSecrets.adminPassword);
      }
      if (keptCa !== undefined) {
        // Before the certificates step, which reuses a valid CA it finds and issues the host certificates.
        const paths = clusterTlsPaths(store.secretsDir(cluster));
        await mkdir(paths.dir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(paths.caFile, keptCa.cert, { mode: 0o600 });
        await writeFileAtomic(paths.caKeyFile, keptCa.key, { mode: 0o600 });
      }
      await store.write(meta);
      stored = true;
    }
    const opId = newOperationId();
    const journal = await Journal.create(store.opsDir(cluster), {
      opId,
      operation: op.name,
      cluster,
      args: prepared.args,
      ...(options.commandLine === undefined ? {} : { commandLine: options.commandLine }),
      startedAt: new Date().toISOString(),
      pid: process.pid,
      plan: outlinePlan(prepared.plan),
    });
    await runJournaled(prepared, journal, options);
    return outcome(prepared, false, opId);
  } finally {
    await rt?.close();
    await lock.release();
    if (!stored) await removeCreatedDirs(missingDirs, store.clusterDir(cluster));
  }
}

/**
 * Removes what the lock created for a cluster that was never stored: its dir (with the lock's leftovers)
 * and parent dirs this call created, innermost first, each only while empty — another command may have put
 * its own cluster there meanwhile.
 */
async function removeCreatedDirs(created: readonly string[], clusterDir: string): Promise<void> {
  for (const dir of [...created].reverse()) {
    if (dir === clusterDir) await rm(dir, { recursive: true, force: true });
    else await rmdir(dir).catch(() => undefined);
  }
}

function clusterExists(cluster: string): UsageError {
  return new UsageError(
    `cluster '${cluster}' already exists`,
    `use \`mup cluster start ${cluster}\`, \`mup cluster resume ${cluster}\` if its deploy was interrupted, or destroy it first`,
  );
}

/** Step ids that the rebuilt plan and the journaled one do not share (order may differ: rolling follows the primary). */
function planDifference(
  rebuilt: PlanOutline,
  journaled: PlanOutline,
): { added: string[]; missing: string[] } {
  const ids = (outline: PlanOutline) => new Set(outline.phases.flatMap((p) => p.steps.map((s) => s.id)));
  const now = ids(rebuilt);
  const then = ids(journaled);
  return {
    added: [...now].filter((id) => !then.has(id)),
    missing: [...then].filter((id) => !now.has(id)),
  };
}

/** `mup cluster resume`: continues the newest interrupted or failed operation from its first step not done. */
export async function resumeOperation(
  cluster: string,
  registry: ReadonlyMap<string, Operation>,
  options: OperationOptions,
): Promise<OperationOutcome> {
  const store = new ClusterStore(options.home);
  if (!(await store.exists(cluster))) throw new ClusterNotFoundError(cluster);
  const lock = await lockFor(store, cluster, `mup cluster resume ${cluster}`);
  let rt: ClusterRuntime | undefined;
  try {
    const last = await lastUnfinished(store, cluster);
    const op = registry.get(last.header.operation);
    if (!op) throw new MupError(`operation '${last.header.operation}' cannot be resumed by this mup`);
    const { meta, password, authSecrets } = await storedCluster(cluster).load(store);
    rt = new ClusterRuntime(meta, store, password, authSecrets);
    const prepared = await op.prepare(rt, last.header.args);
    const { added, missing } = planDifference(outlinePlan(prepared.plan), last.header.plan);
    if (added.length > 0 || missing.length > 0)
      throw new MupError(
        `cannot resume ${last.header.opId} (${last.header.operation}): the cluster no longer matches its plan (${[
          ...added.map((id) => `new step ${id}`),
          ...missing.map((id) => `step ${id} gone`),
        ].join(', ')})`,
        {
          exitCode: ExitCode.usage,
          hint: `see \`mup cluster audit ${cluster} ${last.header.opId}\`; run the operation again instead`,
        },
      );
    if (options.dryRun) return outcome(prepared, true, last.header.opId);
    const journal = await Journal.reopen(`${store.opsDir(cluster)}/${last.header.opId}.jsonl`);
    await runJournaled(prepared, journal, options, last.completedSteps);
    return outcome(prepared, false, last.header.opId);
  } finally {
    await rt?.close();
    await lock.release();
  }
}

async function lastUnfinished(store: ClusterStore, cluster: string): Promise<OperationRecord> {
  const last = (await listOperations(store.opsDir(cluster))).at(-1);
  if (!last || last.summary.status === 'succeeded')
    throw new UsageError(
      `cluster '${cluster}' has no interrupted operation to resume`,
      `see \`mup cluster audit ${cluster}\``,
    );
  return last;
}
