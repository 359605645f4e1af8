// start / stop / restart / resume of a stored cluster: load meta, lock, build the plan, run it journaled.
import { MupError, UsageError } from '../errors.js';
import { ClusterStore } from '../meta/store.js';
import { Journal, listOperations } from '../plan/journal.js';
import { runPlan } from '../plan/runner.js';
import { outlinePlan, type Plan } from '../plan/types.js';
import { lockCluster, type OperationOptions, runJournaled } from './apply.js';
import { destroyCluster } from './destroy.js';
import { buildDeployPlan, buildRestartPlan, buildStartPlan, buildStopPlan } from './plans.js';
import { ClusterRuntime } from './runtime.js';
import type { Selection } from './selection.js';

export interface OperationResult {
  schemaVersion: 1;
  cluster: string;
  operation: string;
  opId: string;
}

type PlanBuilder = (rt: ClusterRuntime, args: Record<string, unknown>) => Plan | Promise<Plan>;

/** Every resumable operation and how to rebuild its plan from the journaled arguments. */
const BUILDERS: Record<string, PlanBuilder> = {
  deploy: (rt) => buildDeployPlan(rt),
  start: (rt, args) => buildStartPlan(rt, args.selection as Selection),
  stop: (rt, args) => buildStopPlan(rt, args.selection as Selection),
  restart: (rt, args) => buildRestartPlan(rt, args.selection as Selection, args.parallel === true),
};

async function runOperation(
  name: string,
  operation: string,
  args: Record<string, unknown>,
  options: OperationOptions,
): Promise<OperationResult> {
  const store = new ClusterStore(options.home);
  const meta = await store.read(name);
  const builder = BUILDERS[operation];
  if (!builder) throw new MupError(`unknown operation ${operation}`);
  const lock = await lockCluster(store, name, `mup cluster ${operation} ${name}`);
  const rt = await ClusterRuntime.open(store, meta);
  try {
    const plan = await builder(rt, args);
    const { opId } = await runJournaled(store, plan, args, options);
    return { schemaVersion: 1, cluster: name, operation, opId };
  } finally {
    await rt.close();
    await lock.release();
  }
}

export function startCluster(
  name: string,
  selection: Selection,
  options: OperationOptions,
): Promise<OperationResult> {
  return runOperation(name, 'start', { selection }, options);
}

export function stopCluster(
  name: string,
  selection: Selection,
  options: OperationOptions,
): Promise<OperationResult> {
  return runOperation(name, 'stop', { selection }, options);
}

export function restartCluster(
  name: string,
  selection: Selection,
  parallel: boolean,
  options: OperationOptions,
): Promise<OperationResult> {
  return runOperation(name, 'restart', { selection, parallel }, options);
}

/** `mup cluster resume`: continues the newest interrupted or failed operation from its first step not done. */
export async function resumeCluster(name: string, options: OperationOptions): Promise<OperationResult> {
  const store = new ClusterStore(options.home);
  const meta = await store.read(name);
  const operations = await listOperations(store.opsDir(name));
  const last = operations.at(-1);
  if (!last || last.summary.status === 'succeeded') {
    throw new UsageError(
      `cluster '${name}' has no interrupted operation to resume`,
      `see \`mup cluster audit ${name}\``,
    );
  }
  if (last.summary.status === 'running') {
    throw new UsageError(
      `operation ${last.summary.opId} (${last.summary.operation}) is still running (pid ${last.header.pid})`,
    );
  }
  if (last.header.operation === 'destroy') {
    // Destroy forgets the cluster when it ends, so it resumes by running again: each of its steps is
    // idempotent. It was confirmed when it started.
    await destroyCluster(name, last.header.args.keepData === true, { ...options, yes: true });
    return { schemaVersion: 1, cluster: name, operation: 'destroy', opId: last.header.opId };
  }
  const builder = BUILDERS[last.header.operation];
  if (!builder) throw new MupError(`operation '${last.header.operation}' cannot be resumed`);
  const lock = await lockCluster(store, name, `mup cluster resume ${name}`);
  const rt = await ClusterRuntime.open(store, meta);
  const journal = await Journal.reopen(`${store.opsDir(name)}/${last.header.opId}.jsonl`);
  try {
    const plan = await builder(rt, last.header.args);
    options.progress?.start(outlinePlan(plan));
    try {
      await runPlan(plan, {
        concurrency: options.concurrency,
        journal,
        completedSteps: last.completedSteps,
        ...(options.progress ? { onEvent: options.progress.event } : {}),
      });
    } finally {
      await options.progress?.end();
    }
    return { schemaVersion: 1, cluster: name, operation: last.header.operation, opId: last.header.opId };
  } finally {
    await journal.close();
    await rt.close();
    await lock.release();
  }
}
