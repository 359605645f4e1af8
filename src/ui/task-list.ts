// The task list on a terminal: one line per phase with a spinner, its steps beneath, each marked done,
// skipped or failed as plan events arrive. listr2 draws it (on stderr, so stdout stays for results); the
// plan runner stays the one that runs the steps — each listr task just waits for its step's event.
import type { ProgressView } from '../plan/events.js';

interface Pending {
  resolve(skipMessage?: string): void;
  reject(error: Error): void;
  settled: boolean;
}

export async function createTaskList(): Promise<ProgressView> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const pending = new Map<string, Pending>();
  let running: Promise<unknown> | undefined;

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
                task: async (_c: unknown, stepTask: { skip: (message: string) => void }) => {
                  const skipped = await done;
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
    },
    event(event) {
      if (event.type !== 'step') return;
      if (event.state === 'done') settle(event.step, (p) => p.resolve());
      else if (event.state === 'skipped')
        settle(event.step, (p) => p.resolve(event.output?.split('\n').at(-1) ?? 'skipped'));
      else if (event.state === 'failed')
        settle(event.step, (p) => p.reject(new Error(event.error ?? 'failed')));
    },
    async end() {
      for (const id of pending.keys()) settle(id, (p) => p.resolve('not run'));
      await running;
    },
  };
}
