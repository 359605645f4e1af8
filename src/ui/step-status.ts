// What a running step shows beside its title while it runs: its elapsed time, or what it waits for — a
// countdown when the wait has an expected end ("mongod-30001 quiesce: 12 s left"), else the time waited
// ("waiting for a primary of rs0: 12 s"). Nothing in its first second, so quick steps do not flicker.

export interface StepWait {
  what: string;
  /** When the step began this wait (epoch ms). */
  since: number;
  /** When the wait is expected to end (epoch ms). */
  until?: number;
}

export function runningStatus(now: number, startedAt: number, wait?: StepWait): string {
  const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));
  if (wait?.until !== undefined) {
    if (now < wait.until) return `${wait.what}: ${Math.ceil((wait.until - now) / 1000)} s left`;
    return `${wait.what}: ${seconds(now - wait.since)} s, longer than the expected ${Math.round((wait.until - wait.since) / 1000)} s`;
  }
  if (now - startedAt < 1000) return '';
  if (wait) return `waiting for ${wait.what}: ${seconds(now - wait.since)} s`;
  return `${seconds(now - startedAt)} s`;
}

/** The line a plain (non-terminal) progress log prints when a step begins a wait: said once, not ticked. */
export function waitLine(wait: StepWait): string {
  if (wait.until !== undefined)
    return `${wait.what}: up to ${Math.round((wait.until - wait.since) / 1000)} s`;
  return `waiting for ${wait.what}`;
}
