// One line per replica set while a rolling phase runs the sets side by side (and one for the mongos batch):
// the set, the member it works on now, how many of its members are through, and what that member waits for —
// instead of a spinner per member. A pure function of the steps' states and the clock, so the terminal task
// list only assigns the lines it returns.
import { runningStatus, type StepWait } from './step-status.js';

export type LaneStepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export interface LaneStep {
  /** The step's id; `<kind>:<host:port>` for a member's step. */
  id: string;
  state: LaneStepState;
  /** Epoch ms: when it began running, and when it settled. */
  startedAt?: number;
  endedAt?: number;
  /** What it waits for now (step-wait or step-progress), while it runs. */
  wait?: StepWait;
  error?: string;
}

export interface Lane {
  /** A replica set's name, or `mongos` for the routers' batch. */
  label: string;
  /** In the order they run. */
  steps: readonly LaneStep[];
}

/** The member a step works on: `host:port` out of `<kind>:<host:port>` (the whole id otherwise). */
export function stepMember(stepId: string): string {
  const colon = stepId.indexOf(':');
  return colon < 0 ? stepId : stepId.slice(colon + 1);
}

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

interface Cells {
  member: string;
  count: string;
  status: string;
}

function laneCells(lane: Lane, now: number): Cells {
  const through = lane.steps.filter((s) => s.state === 'done' || s.state === 'skipped').length;
  const count = `${through}/${lane.steps.length}`;
  const failed = lane.steps.find((s) => s.state === 'failed');
  if (failed) return { member: stepMember(failed.id), count, status: `failed: ${failed.error ?? 'failed'}` };
  // Oldest first: in a batch, the member that has been at it longest says how the batch goes.
  const running = lane.steps
    .filter((s) => s.state === 'running')
    .sort((a, b) => (a.startedAt ?? now) - (b.startedAt ?? now));
  const first = running[0];
  if (first) {
    const status = runningStatus(now, first.startedAt ?? now, first.wait) || 'started';
    return { member: running.map((s) => stepMember(s.id)).join(' '), count, status };
  }
  if (through === lane.steps.length) {
    const began = Math.min(...lane.steps.map((s) => s.startedAt ?? now));
    const ended = Math.max(...lane.steps.map((s) => s.endedAt ?? now));
    return { member: '', count, status: `done in ${seconds(ended - began)}` };
  }
  // Not started yet (all lanes in flight already, --concurrency), or between two members.
  return { member: '', count, status: through === 0 ? 'queued' : 'next member' };
}

/**
 * Cuts a line to the terminal's width (a wrapped line would break the list's layout). A status ends in its
 * clock ("…, caught up: 12 s"), the part that changes: the cut is made before it, so it stays in view.
 */
function fit(head: string, status: string, width: number | undefined): string {
  const line = `${head}${status}`.trimEnd();
  if (width === undefined || line.length <= width) return line;
  // runningStatus's clocks: ": 12 s", ": 3 s left", ": 17 s, longer than the expected 15 s".
  const clock = /: [^:]*\b\d+ s\b[^:]*$/.exec(status)?.[0] ?? '';
  const room = width - head.length - clock.length - 1;
  if (clock === '' || room < 8) return `${line.slice(0, Math.max(0, width - 1))}…`;
  return `${head}${status.slice(0, room)}…${clock}`;
}

/**
 * One line per lane, columns aligned across the lanes: `shard03  localhost:20103  1/3  waiting for …: 2 s`.
 * `width` (characters) cuts each line to fit.
 */
export function laneLines(lanes: readonly Lane[], now: number, width?: number): string[] {
  const cells = lanes.map((lane) => laneCells(lane, now));
  const labelWidth = Math.max(0, ...lanes.map((lane) => lane.label.length));
  const memberWidth = Math.max(0, ...cells.map((c) => c.member.length));
  const countWidth = Math.max(0, ...cells.map((c) => c.count.length));
  return lanes.map((lane, i) => {
    const c = cells[i] as Cells;
    const columns = [lane.label.padEnd(labelWidth)];
    if (memberWidth > 0) columns.push(c.member.padEnd(memberWidth));
    columns.push(c.count.padStart(countWidth), '');
    return fit(columns.join('  '), c.status, width);
  });
}
