// What a stop, start or restart changed, process by process: each selected process's status and pid read
// before the operation and after it (the same probe as `mup cluster display`), so that a script sees that
// `mongod-30001` went `Up|S` → `Down`, and that a restart gave a member a new pid.
import { ClusterStore } from '../meta/store.js';
import { displayCluster, type ProcessStatus } from './display.js';
import { type Selection, selectInstances } from './selection.js';

export interface ProcessState {
  status: ProcessStatus;
  pid?: number;
}

export interface ProcessChange {
  id: string;
  program: string;
  before: ProcessState;
  after: ProcessState;
  /** The status or the pid differs. */
  changed: boolean;
}

export type ProcessSnapshot = Map<string, ProcessState & { program: string }>;

/** The selected processes' status and pid now; undefined when the cluster cannot be read. */
export async function snapshotProcesses(
  home: string,
  cluster: string,
  selection: Selection,
): Promise<ProcessSnapshot | undefined> {
  try {
    const meta = await new ClusterStore(home).read(cluster);
    const selected = new Set(selectInstances(meta.topology.instances, selection).map((i) => i.id));
    const view = await displayCluster(home, cluster);
    return new Map(
      view.processes
        .filter((p) => selected.has(p.id))
        .map((p) => [
          p.id,
          { program: p.program, status: p.status, ...(p.pid === undefined ? {} : { pid: p.pid }) },
        ]),
    );
  } catch {
    // The result still reports the operation; only its per-process detail is missing.
    return undefined;
  }
}

/** Before and after of every process in both snapshots, in topology order. */
export function processChanges(before: ProcessSnapshot, after: ProcessSnapshot): ProcessChange[] {
  const changes: ProcessChange[] = [];
  for (const [id, was] of before) {
    const now = after.get(id);
    if (!now) continue;
    const state = (s: ProcessState): ProcessState => ({
      status: s.status,
      ...(s.pid === undefined ? {} : { pid: s.pid }),
    });
    changes.push({
      id,
      program: was.program,
      before: state(was),
      after: state(now),
      changed: was.status !== now.status || was.pid !== now.pid,
    });
  }
  return changes;
}
