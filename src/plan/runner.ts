// Runs a plan: phases in order; a phase's steps in order or concurrently (bounded). Every state change is
// journaled (fsynced) before the next thing happens and reported to the ui through `onEvent`.
// A failed step stops the plan after the steps already in flight settle; the error names the step and host.
import pLimit from 'p-limit';
import { ExitCode, MupError } from '../errors.js';
import type { Journal } from './journal.js';
import type { Phase, Plan, PlanEvent, Step, StepContext } from './types.js';

export interface RunPlanOptions {
  concurrency: number;
  journal?: Journal;
  onEvent?: (event: PlanEvent) => void;
  /** Step ids done by an earlier attempt of the same operation (resume): skipped without running. */
  completedSteps?: ReadonlySet<string>;
}

export class StepFailedError extends MupError {
  readonly step: string;
  readonly host: string | undefined;

  constructor(step: Step, cause: unknown, resumable: boolean, cluster: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = step.host ? ` on ${step.host}` : '';
    const causeHint = cause instanceof MupError ? cause.hint : undefined;
    const resumeHint = resumable ? `fix the cause, then run: mup cluster resume ${cluster}` : undefined;
    const hint = [causeHint, resumeHint].filter((h) => h !== undefined).join('\n') || undefined;
    super(`step '${step.title}'${where} failed: ${reason}`, {
      exitCode: resumable ? ExitCode.resumable : ExitCode.failed,
      cause,
      ...(hint === undefined ? {} : { hint }),
    });
    this.step = step.id;
    this.host = step.host;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<void> {
  const emit = async (event: PlanEvent): Promise<void> => {
    if (event.type === 'step' && options.journal) {
      await options.journal.append({
        kind: 'step',
        at: new Date().toISOString(),
        phase: event.phase,
        step: event.step,
        state: event.state,
        ...(event.output === undefined ? {} : { output: event.output }),
        ...(event.error === undefined ? {} : { error: event.error }),
      });
    }
    options.onEvent?.(event);
  };

  try {
    for (const phase of plan.phases) {
      await emit({ type: 'phase-start', phase: phase.name, title: phase.title });
      const failures = await runPhase(phase, options, emit);
      await emit({ type: 'phase-end', phase: phase.name, title: phase.title, ok: failures.length === 0 });
      const first = failures[0];
      if (first)
        throw new StepFailedError(first.step, first.error, options.journal !== undefined, plan.cluster);
    }
    await options.journal?.append({ kind: 'end', at: new Date().toISOString(), status: 'succeeded' });
  } catch (error) {
    await options.journal?.append({
      kind: 'end',
      at: new Date().toISOString(),
      status: 'failed',
      error: errorText(error),
    });
    throw error;
  }
}

interface Failure {
  step: Step;
  error: unknown;
}

async function runPhase(
  phase: Phase,
  options: RunPlanOptions,
  emit: (event: PlanEvent) => Promise<void>,
): Promise<Failure[]> {
  const failures: Failure[] = [];
  const runOne = async (step: Step): Promise<void> => {
    if (failures.length > 0) return; // a sibling failed: start nothing new
    const base = {
      type: 'step',
      phase: phase.name,
      step: step.id,
      title: step.title,
      ...(step.host ? { host: step.host } : {}),
    } as const;
    if (options.completedSteps?.has(step.id)) {
      await emit({ ...base, state: 'skipped', output: 'done by an earlier attempt' });
      return;
    }
    const lines: string[] = [];
    const context: StepContext = { log: (line) => lines.push(line) };
    await emit({ ...base, state: 'running' });
    try {
      if (step.isDone && (await step.isDone(context))) {
        await emit({ ...base, state: 'skipped', output: lines.concat('already done').join('\n') });
        return;
      }
      const result = await step.run(context);
      if (result !== undefined) lines.push(result);
      await emit({ ...base, state: 'done', ...(lines.length ? { output: lines.join('\n') } : {}) });
    } catch (error) {
      failures.push({ step, error });
      await emit({
        ...base,
        state: 'failed',
        error: errorText(error),
        ...(lines.length ? { output: lines.join('\n') } : {}),
      });
    }
  };

  if (!phase.parallel) {
    for (const step of phase.steps) {
      await runOne(step);
      if (failures.length > 0) break;
    }
    return failures;
  }
  const limit = pLimit(Math.max(1, options.concurrency));
  await Promise.all(phase.steps.map((step) => limit(() => runOne(step))));
  return failures;
}
