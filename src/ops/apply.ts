// Shared by every mutating operation: show the plan (dry-run stops there), confirm, take the cluster lock,
// journal the run, and release the lock whatever happens.
import type { ClusterStore } from '../meta/store.js';
import { Journal, newOperationId } from '../plan/journal.js';
import { acquireClusterLock, type ClusterLock } from '../plan/lock.js';
import { runPlan } from '../plan/runner.js';
import { outlinePlan, type Plan, type PlanOutline } from '../plan/types.js';
import type { ProgressView } from '../ui/task-list.js';

export interface OperationOptions {
  home: string;
  /** Do not ask for confirmation. */
  yes: boolean;
  /** Parallel host/process operations within a phase. */
  concurrency: number;
  /** Shows the plan's progress (task list, plain lines or JSON events). */
  progress?: ProgressView;
  /** Asks the user; resolves false to abort. Called only when `yes` is false. */
  confirm?: (outline: PlanOutline) => Promise<boolean>;
}

export async function lockCluster(
  store: ClusterStore,
  cluster: string,
  command: string,
): Promise<ClusterLock> {
  await store.ensureClusterDir(cluster);
  return acquireClusterLock(store.lockPath(cluster), cluster, command);
}

export interface JournaledRun {
  opId: string;
}

/** Runs `plan` under an already held lock, journaled in the cluster's ops dir. */
export async function runJournaled(
  store: ClusterStore,
  plan: Plan,
  args: Record<string, unknown>,
  options: OperationOptions,
): Promise<JournaledRun> {
  const opId = newOperationId();
  const journal = await Journal.create(store.opsDir(plan.cluster), {
    opId,
    operation: plan.operation,
    cluster: plan.cluster,
    args,
    startedAt: new Date().toISOString(),
    pid: process.pid,
    plan: outlinePlan(plan),
  });
  options.progress?.start(outlinePlan(plan));
  try {
    await runPlan(plan, {
      concurrency: options.concurrency,
      journal,
      ...(options.progress ? { onEvent: options.progress.event } : {}),
    });
  } finally {
    await options.progress?.end();
    await journal.close();
  }
  return { opId };
}

/** Human rendering of a plan for --dry-run and the confirmation prompt. */
export function describePlan(outline: PlanOutline): string {
  const lines = [`Plan: ${outline.operation} ${outline.cluster}`];
  outline.phases.forEach((phase, index) => {
    lines.push(
      `  ${index + 1}. ${phase.title}${phase.parallel && phase.steps.length > 1 ? ' (in parallel)' : ''}`,
    );
    for (const step of phase.steps) lines.push(`     - ${step.title}`);
  });
  return lines.join('\n');
}
