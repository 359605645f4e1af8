// Runs a plan: phases in order; a phase's steps in order or concurrently (bounded). Every state change is
// journaled (fsynced) before the next thing happens and reported to the ui through `onEvent`.
// A failed step stops the plan after the steps already in flight settle; the error names the step and host.
import pLimit, { type LimitFunction } from 'p-limit';
import { ExitCode, MupError } from '../errors.js';
import { failpoint } from './failpoint.js';
import type { Journal } from './journal.js';
import type { Phase, Plan, PlanEvent, Step, StepContext } from './types.js';

export interface RunPlanOptions {
  /** Steps of a parallel phase at once on each host; lanes at once in a `lanes` phase. */
  concurrency: number;
  journal?: Journal;
  onEvent?: (event: PlanEvent) => void;
  /** Step ids done by an earlier attempt of the same operation (resume): skipped without running. */
  completedSteps?: ReadonlySet<string>;
  /**
   * Aborted on SIGINT/SIGTERM: no further step starts, the steps in flight are abandoned and journaled as
   * failed ("interrupted"), and the run ends with InterruptedError. Resume re-runs them; steps are idempotent.
   */
  signal?: AbortSignal;
}

/** The run was stopped by a signal; the journal says where (exit 130). */
export class InterruptedError extends MupError {
  constructor(cluster: string) {
    super(`interrupted — run \`mup cluster resume ${cluster}\``, {
      exitCode: ExitCode.interrupted,
      hint: 'the step that was running is journaled as interrupted; resume checks it and finishes the operation',
    });
  }
}

const INTERRUPTED: unique symbol = Symbol('interrupted');

export class StepFailedError extends MupError {
  readonly step: string;
  readonly host: string | undefined;

  constructor(step: Step, cause: unknown, resumable: boolean, cluster: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = step.host ? ` on ${step.host}` : '';
    const causeHint = cause instanceof MupError ? cause.hint : undefined;
    const resumeHint = resumable ? `fix the cause, then run: mup cluster resume ${cluster}` : undefined;
    // A process failure (supervisor ProgramError) names its program: its whole MongoDB log is one command away.
    const program = (cause as { program?: unknown } | null)?.program;
    const logsHint =
      typeof program === 'string' ? `its MongoDB log: mup cluster logs ${cluster} -N ${program}` : undefined;
    const hint = [causeHint, logsHint, resumeHint].filter((h) => h !== undefined).join('\n') || undefined;
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
      if (options.signal?.aborted) throw new InterruptedError(plan.cluster);
      await emit({ type: 'phase-start', phase: phase.name, title: phase.title });
      const failures = await runPhase(phase, options, emit);
      await emit({ type: 'phase-end', phase: phase.name, title: phase.title, ok: failures.length === 0 });
      if (options.signal?.aborted) throw new InterruptedError(plan.cluster);
      const first = failures[0];
      if (first)
        throw new StepFailedError(first.step, first.error, options.journal !== undefined, plan.cluster);
    }
    await options.journal?.append({ kind: 'end', at: new Date().toISOString(), status: 'succeeded' });
  } catch (error) {
    await options.journal?.append({
      kind: 'end',
      at: new Date().toISOString(),
      status: error instanceof InterruptedError ? 'interrupted' : 'failed',
      error: errorText(error),
    });
    throw error;
  }
}

/** Resolves when the signal aborts (never when there is none); used to abandon a step in flight. */
/** Resolves when the signal aborts; `dispose` drops its listener once the step is over (one per step). */
function whenAborted(signal: AbortSignal | undefined): {
  promise: Promise<typeof INTERRUPTED>;
  dispose: () => void;
} {
  let dispose = () => {};
  const promise = new Promise<typeof INTERRUPTED>((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve(INTERRUPTED);
    const listener = () => resolve(INTERRUPTED);
    signal.addEventListener('abort', listener, { once: true });
    dispose = () => signal.removeEventListener('abort', listener);
  });
  return { promise, dispose };
}

const SKIPPED: unique symbol = Symbol('skipped');

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
    if (failures.length > 0 || options.signal?.aborted) return; // a sibling failed or a signal came: start nothing new
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
    const context: StepContext = {
      log: (line) => lines.push(line),
      waiting: (what, until) => {
        const { type: _, ...where } = base;
        options.onEvent?.({
          type: 'step-wait',
          ...where,
          what,
          ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
        });
      },
      // Shown, never journaled: not awaited, and only while the step is still running.
      progress: (line) => void emit({ ...base, type: 'step-progress', progress: line }),
    };
    await emit({ ...base, state: 'running' });
    const aborted = whenAborted(options.signal);
    try {
      const work = async (): Promise<typeof SKIPPED | string | undefined> => {
        if (step.isDone && (await step.isDone(context))) return SKIPPED;
        failpoint(step.id, 'before-run');
        return step.run(context);
      };
      const running = work();
      const result = await Promise.race([running, aborted.promise]).finally(aborted.dispose);
      if (result === INTERRUPTED) {
        running.catch(() => undefined); // its late failure is no longer anyone's to report
        // Abandoned: whatever the step did so far is for resume to check; journal it as not done.
        await emit({
          ...base,
          state: 'failed',
          error: 'interrupted',
          ...(lines.length ? { output: lines.join('\n') } : {}),
        });
        return;
      }
      if (result === SKIPPED) {
        await emit({ ...base, state: 'skipped', output: lines.concat('already done').join('\n') });
        return;
      }
      failpoint(step.id, 'after-run');
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
  if (phase.parallel === 'lanes') {
    const limit = pLimit(Math.max(1, options.concurrency));
    // Each lane in order, the lanes side by side: one member per replica set at a time, sets in parallel.
    const lanes = new Map<string, Step[]>();
    for (const step of phase.steps) {
      const lane = step.lane ?? step.id;
      lanes.set(lane, [...(lanes.get(lane) ?? []), step]);
    }
    await Promise.all(
      [...lanes.values()].map((steps) =>
        limit(async () => {
          for (const step of steps) {
            await runOne(step);
            if (failures.length > 0) return;
          }
        }),
      ),
    );
    return failures;
  }
  // Each host has its own bound: a host's steps wait for each other, not for other hosts' steps, so nine
  // hosts take a per-host phase (ship binaries, start supervisord) in one wave as one host does. Steps of no
  // host (the control machine's own work) share one bound.
  const perHost = new Map<string, LimitFunction>();
  const limitFor = (step: Step): LimitFunction => {
    const key = step.host?.toLowerCase() ?? '';
    let hostLimit = perHost.get(key);
    if (hostLimit === undefined) {
      hostLimit = pLimit(Math.max(1, options.concurrency));
      perHost.set(key, hostLimit);
    }
    return hostLimit;
  };
  await Promise.all(phase.steps.map((step) => limitFor(step)(() => runOne(step))));
  return failures;
}
