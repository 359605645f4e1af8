// A plan is an ordered list of phases; each phase holds named steps that run one after another or in
// parallel (bounded). Steps are idempotent: `isDone` looks at live state, so resume simply skips what is
// already true.

export interface StepContext {
  /** Adds a line to the step's output (kept in the journal, shown in audit). */
  log(line: string): void;
  /**
   * Says what the step waits for now ("a primary of rs0", "quiesce"), so that progress never looks hung;
   * `until` (epoch ms) is when the wait is expected to end, shown as a countdown. Not journaled.
   */
  waiting(what: string, until?: number): void;
  /**
   * Shows how far a long step is, live, while it runs (a draining shard's chunks left): each line replaces
   * the previous one on a terminal. Not journaled — what must survive goes through `log`.
   */
  progress(line: string): void;
}

export interface Step {
  /** Stable id, unique in the plan, e.g. `start:localhost:30001`. Resume matches journal entries by it. */
  id: string;
  /** Human description: "start mongod-30001 on localhost". */
  title: string;
  host?: string;
  /** In a `lanes` phase: steps of one lane run in order, lanes run side by side (e.g. a replica set's name). */
  lane?: string;
  /** Already done? Checked before running; a step that is done is skipped. */
  isDone?(context: StepContext): Promise<boolean>;
  /** Performs the step; may return a one-line result for the journal. */
  run(context: StepContext): Promise<string | undefined>;
}

export interface Phase {
  /** Stable name, e.g. `start-config`, `restart-rs0`. */
  name: string;
  title: string;
  /**
   * `true`: the steps run concurrently (each host's bounded by the runner's concurrency, hosts side by side);
   * `false`: in order; `lanes`: the steps of each lane in order, the lanes concurrently (bounded).
   */
  parallel: boolean | 'lanes';
  steps: Step[];
}

export function phase(name: string, title: string, parallel: Phase['parallel'], steps: Step[]): Phase {
  return { name, title, parallel, steps };
}

export interface Plan {
  /** The operation, e.g. `deploy`, `restart`. */
  operation: string;
  cluster: string;
  phases: Phase[];
  /** The cluster as the plan leaves it; absent when nothing is left (destroy). */
  target?: PlanTarget;
  /** What the steps gathered while running, added to the operation's JSON result (e.g. destroy's removed files). */
  report?: () => Record<string, unknown>;
}

/** The cluster a plan leaves behind: what runs, on which ports, and how a client reaches it. */
export interface PlanTarget {
  kind: 'standalone' | 'replset' | 'sharded';
  /** "MongoDB", "Percona Server for MongoDB" or the simulator's label. */
  engine: string;
  version: string;
  processes: { id: string; role: string; replicaSet?: string; host: string; port: number }[];
  uri: string;
}

/** What `--dry-run --json` prints and the journal's first line stores: the plan without code. */
export interface PlanOutline {
  operation: string;
  cluster: string;
  target?: PlanTarget;
  phases: {
    name: string;
    title: string;
    parallel: boolean | 'lanes';
    steps: { id: string; title: string; host?: string; lane?: string }[];
  }[];
}

export function outlinePlan(plan: Plan): PlanOutline {
  return {
    operation: plan.operation,
    cluster: plan.cluster,
    ...(plan.target === undefined ? {} : { target: plan.target }),
    phases: plan.phases.map((phase) => ({
      name: phase.name,
      title: phase.title,
      parallel: phase.parallel,
      steps: phase.steps.map((step) => ({
        id: step.id,
        title: step.title,
        ...(step.host === undefined ? {} : { host: step.host }),
        ...(step.lane === undefined ? {} : { lane: step.lane }),
      })),
    })),
  };
}

export type StepState = 'running' | 'done' | 'skipped' | 'failed';

/** Events the runner emits; the ui renders them, the journal records them. */
export type PlanEvent =
  | { type: 'phase-start'; phase: string; title: string }
  | { type: 'phase-end'; phase: string; title: string; ok: boolean }
  | {
      type: 'step';
      phase: string;
      step: string;
      title: string;
      host?: string;
      state: StepState;
      output?: string;
      error?: string;
    }
  | {
      /** A running step's current wait (StepContext.waiting); `until` is an ISO time. */
      type: 'step-wait';
      phase: string;
      step: string;
      title: string;
      host?: string;
      what: string;
      until?: string;
    }
  | { type: 'step-progress'; phase: string; step: string; title: string; host?: string; progress: string };
