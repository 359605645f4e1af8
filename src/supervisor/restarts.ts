// Restart counting. After a crash supervisord respawns at once and resets exitstatus to 0, so the only
// records of crashes are the daemon log ("exited: NAME (...; not expected)") and a changed pid/start time
// between two observations (supervisord.md §4).
import type { ProcessInfo } from './process-info.js';

/**
 * Unexpected exits of `program` in the daemon log since it last ended for good — stopped on purpose
 * ("stopped: NAME (") or given up ("gave up: NAME entered FATAL") — i.e. the crash count of the current run.
 */
export function countUnexpectedExits(log: string, program: string): number {
  const exited = `exited: ${program} (`;
  const ended = [`stopped: ${program} (`, `gave up: ${program} entered`];
  let count = 0;
  for (const line of log.split('\n')) {
    if (ended.some((marker) => line.includes(marker))) count = 0;
    else if (line.includes(exited) && line.includes('not expected)')) count++;
  }
  return count;
}

/** Programs that were respawned between two observations: same program, new start time or new pid. */
export function respawnedBetween(before: readonly ProcessInfo[], after: readonly ProcessInfo[]): string[] {
  const previous = new Map(before.map((info) => [info.fullName, info]));
  const respawned: string[] = [];
  for (const info of after) {
    const old = previous.get(info.fullName);
    if (old === undefined || old.pid === 0 || info.pid === 0) continue;
    if (old.pid !== info.pid || old.start !== info.start) respawned.push(info.fullName);
  }
  return respawned;
}
