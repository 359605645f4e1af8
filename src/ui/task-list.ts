// The task list on a terminal: one line per phase with a spinner, its steps beneath, each marked done,
// skipped or failed as plan events arrive. listr2 draws it (on stderr, so stdout stays for results); the
// plan runner stays the one that runs the steps — each listr task just waits for its step's event. Once a
// second every running step's title shows its elapsed time or what it waits for (step-status.ts), so no
// spinner turns for long without saying why. A phase that runs replica sets side by side (`lanes`) shows one
// row per set instead of one per member (lane-lines.ts): with eight shards in flight, eight rows saying which
// member each set is at and what it waits for, not a wall of spinners; the routers' batch is one row.
import type { ProgressView } from '../plan/events.js';
import type { PlanOutline } from '../plan/types.js';
import { type Lane, type LaneStep, laneLines } from './lane-lines.js';
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

type OutlinePhase = PlanOutline['phases'][number];
type ListrTask = { skip: (message: string) => void; title: string };

/** The rows of a `lanes` phase, each with its steps in order. */
interface LaneRows {
  lanes: { label: string; steps: string[] }[];
  /** The listr task of each row, once listr has reached the phase. */
  tasks: (ListrTask | undefined)[];
}

/** A row per lane (replica set); the routers' batch in one row. */
function lanesOf(phase: OutlinePhase): LaneRows['lanes'] {
  const rows = new Map<string, string[]>();
  // rollingPhases names the routers' phase `<operation>-mongos`: its lanes are slots of one batch.
  const batch = phase.name.endsWith('-mongos');
  for (const step of phase.steps) {
    const label = batch ? 'mongos' : (step.lane ?? step.id);
    rows.set(label, [...(rows.get(label) ?? []), step.id]);
  }
  return [...rows].map(([label, steps]) => ({ label, steps }));
}

/** Room for a row's text: the terminal's width less the list's indentation and mark. */
function rowWidth(): number | undefined {
  const columns = process.stderr.columns;
  return columns === undefined || columns <= 0 ? undefined : Math.max(20, columns - 6);
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
  // The steps of `lanes` phases by id, and the rows each belongs to.
  const laneSteps = new Map<string, LaneStep>();
  const rowsOfStep = new Map<string, LaneRows>();
  const allRows: LaneRows[] = [];
  const showLanes = (rows: LaneRows, now = Date.now()) => {
    const lanes: Lane[] = rows.lanes.map((lane) => ({
      label: lane.label,
      steps: lane.steps.map((id) => laneSteps.get(id) ?? { id, state: 'pending' }),
    }));
    const lines = laneLines(lanes, now, rowWidth());
    rows.tasks.forEach((task, i) => {
      if (task) task.title = lines[i] ?? '';
    });
  };
  /** Applies an event to a lane step and redraws its rows; false when the step is not in a `lanes` phase. */
  const laneEvent = (stepId: string, change: (step: LaneStep, now: number) => void): boolean => {
    const step = laneSteps.get(stepId);
    const rows = rowsOfStep.get(stepId);
    if (!step || !rows) return false;
    const now = Date.now();
    change(step, now);
    showLanes(rows, now);
    return true;
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
      const outcome = (id: string) => outcomes.get(id) ?? Promise.resolve('not run');
      const stepTasks = (phase: OutlinePhase) =>
        phase.steps.map((step) => ({
          title: step.title,
          task: async (_c: unknown, stepTask: ListrTask) => {
            const entry = live.get(step.id);
            if (entry) {
              entry.task = stepTask;
              showStatus(entry);
            }
            const began = entry?.startedAt ?? Date.now();
            const skipped = await outcome(step.id);
            live.delete(step.id);
            stepTask.title = `${step.title} (${((Date.now() - began) / 1000).toFixed(1)}s)`;
            if (skipped !== undefined) stepTask.skip(`${step.title} (${skipped})`);
          },
        }));
      const laneTasks = (rows: LaneRows) =>
        rows.lanes.map((lane, i) => ({
          title: lane.label,
          task: async (_c: unknown, laneTask: ListrTask) => {
            rows.tasks[i] = laneTask;
            showLanes(rows);
            // A failed step rejects: listr marks the row failed, its line says why.
            const results = [];
            for (const id of lane.steps) results.push(await outcome(id));
            showLanes(rows);
            if (results.includes('not run')) laneTask.skip(laneTask.title);
          },
        }));
      const phases = outline.phases.map((phase) => {
        let rows: LaneRows | undefined;
        if (phase.parallel === 'lanes') {
          rows = { lanes: lanesOf(phase), tasks: [] };
          allRows.push(rows);
          for (const step of phase.steps) {
            laneSteps.set(step.id, { id: step.id, state: 'pending' });
            rowsOfStep.set(step.id, rows);
          }
        }
        return {
          title: phase.title,
          task: (_ctx: unknown, phaseTask: { newListr: (tasks: unknown[], options: unknown) => unknown }) =>
            phaseTask.newListr(rows ? laneTasks(rows) : stepTasks(phase), {
              concurrent: true,
              exitOnError: false,
            }),
        };
      });
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
        for (const rows of allRows) showLanes(rows);
      }, TICK_MS);
      ticker.unref();
    },
    event(event) {
      if (event.type === 'step-progress' || event.type === 'step-wait') {
        // A long step's progress (chunks left, bytes copied) shows like a wait.
        const what = event.type === 'step-wait' ? event.what : event.progress;
        const until =
          event.type === 'step-wait' && event.until !== undefined ? Date.parse(event.until) : undefined;
        const inLane = laneEvent(event.step, (step, now) => {
          if (step.state === 'running')
            step.wait = { what, since: now, ...(until === undefined ? {} : { until }) };
        });
        if (inLane) return;
        const entry = live.get(event.step);
        if (!entry) return;
        const now = Date.now();
        entry.wait = { what, since: now, ...(until === undefined ? {} : { until }) };
        showStatus(entry, now);
        return;
      }
      if (event.type !== 'step') return;
      const inLane = laneEvent(event.step, (step, now) => {
        step.state = event.state;
        if (event.state === 'running') step.startedAt = now;
        else step.endedAt = now;
        delete step.wait;
        if (event.error !== undefined) step.error = event.error;
      });
      if (event.state === 'running') {
        if (!inLane) live.set(event.step, { title: event.title, startedAt: Date.now() });
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
