// The task list on a terminal: one line per phase with a spinner, its steps beneath, each marked done,
// skipped or failed as plan events arrive. listr2 draws it (on stderr, so stdout stays for results); the
// plan runner stays the one that runs the steps — each listr task just waits for its step's event. Once a
// second every running step's title shows its elapsed time or what it waits for (step-status.ts), so no
// spinner turns for long without saying why.
import type { ProgressView } from '../plan/events.js';
import { runningStatus, type StepWait } from './step-status.js';

const TICK_MS = 1000;

interface Running {
  title: string;
  startedAt: number;
  wait?: StepWait;
  task?: { title: string };
}

interface Pending {
  resolve(skipMessage?: string): void;
  reject(error: Error): void;
  settled: boolean;
}

export async function createTaskList(): Promise<ProgressView> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const pending = new Map<string, Pending>();
  let running: Promise<unknown> | undefined;
  const live = new Map<string, Running>();
  let ticker: NodeJS.Timeout | undefined;
  const showStatus = (entry: Running, now = Date.now()) => {
    const status = runningStatus(now, entry.startedAt, entry.wait);
    if (entry.task) entry.task.title = status === '' ? entry.title : `${entry.title} — ${status}`;
  };

  const waitFor = (stepId: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      pending.set(stepId, {
        resolve: (skip) => resolve(skip),
        reject,
        settled: false,
      });
    });

  const settle = (stepId: string, how: (p: Pending) => void) => {
    const entry = pending.get(stepId);
    if (!entry || entry.settled) return;
    entry.settled = true;
    how(entry);
  };

  return {
    start(outline) {
      // Every step's outcome is awaited from the start: events may arrive before listr reaches the phase.
      const outcomes = new Map(
        outline.phases.flatMap((phase) => phase.steps.map((step) => [step.id, waitFor(step.id)] as const)),
      );
      const phases = outline.phases.map((phase) => ({
        title: phase.title,
        task: (_ctx: unknown, phaseTask: { newListr: (tasks: unknown[], options: unknown) => unknown }) =>
          phaseTask.newListr(
            phase.steps.map((step) => {
              const done = outcomes.get(step.id) ?? Promise.resolve('not run');
              return {
                title: step.title,
                task: async (_c: unknown, stepTask: { skip: (message: string) => void; title: string }) => {
                  const entry = live.get(step.id);
                  if (entry) {
                    entry.task = stepTask;
                    showStatus(entry);
                  }
                  const began = entry?.startedAt ?? Date.now();
                  const skipped = await done;
                  live.delete(step.id);
                  stepTask.title = `${step.title} (${((Date.now() - began) / 1000).toFixed(1)}s)`;
                  if (skipped !== undefined) stepTask.skip(`${step.title} (${skipped})`);
                },
              };
            }),
            { concurrent: true, exitOnError: false },
          ),
      }));
      const list = new Listr(phases as never, {
        exitOnError: true,
        rendererOptions: {
          logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }),
          collapseSubtasks: false,
        },
      });
      running = list.run().catch(() => undefined);
      ticker = setInterval(() => {
        for (const entry of live.values()) showStatus(entry);
      }, TICK_MS);
      ticker.unref();
    },
    event(event) {
      if (event.type === 'step-progress') {
        // A long step's progress (chunks left, bytes copied) shows in its title like a wait.
        const entry = live.get(event.step);
        if (!entry) return;
        const now = Date.now();
        entry.wait = { what: event.progress, since: now };
        showStatus(entry, now);
        return;
      }
      if (event.type === 'step-wait') {
        const entry = live.get(event.step);
        if (!entry) return;
        const now = Date.now();
        entry.wait = {
          what: event.what,
          since: now,
          ...(event.until === undefined ? {} : { until: Date.parse(event.until) }),
        };
        showStatus(entry, now);
        return;
      }
      if (event.type !== 'step') return;
      if (event.state === 'running') {
        live.set(event.step, { title: event.title, startedAt: Date.now() });
        return;
      }
      if (event.state === 'done') settle(event.step, (p) => p.resolve());
      else if (event.state === 'skipped')
        settle(event.step, (p) => p.resolve(event.output?.split('\n').at(-1) ?? 'skipped'));
      else if (event.state === 'failed')
        settle(event.step, (p) => p.reject(new Error(event.error ?? 'failed')));
    },
    async end() {
      if (ticker) clearInterval(ticker);
      for (const id of pending.keys()) settle(id, (p) => p.resolve('not run'));
      await running;
    },
  };
}
