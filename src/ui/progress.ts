// Renders plan events on stderr: a line per phase, per step started (▹) and finished (✔ done, – skipped,
// ✖ failed, with its duration) and per wait a step begins (once, never ticking: a log, not a screen), or, in
// --json mode, one JSON object per event so scripts can follow progress.

import type { ProgressView } from '../plan/events.js';
import type { PlanEvent } from '../plan/types.js';
import { stderrColors } from './colors.js';
import { waitLine } from './step-status.js';
import { createTaskList } from './task-list.js';

function eventPrinter(options: { json: boolean }): (event: PlanEvent) => void {
  const startedAt = new Map<string, number>();
  const pc = stderrColors();
  const write = (line: string) => process.stderr.write(`${line}\n`);
  if (options.json)
    return (event) => write(JSON.stringify({ event: event.type, ...event, at: new Date().toISOString() }));
  return (event) => {
    switch (event.type) {
      case 'phase-start':
        write(pc.bold(`▸ ${event.title}`));
        return;
      case 'phase-end':
        return;
      case 'step-wait': {
        const now = Date.now();
        const until = event.until === undefined ? undefined : Date.parse(event.until);
        write(
          pc.dim(
            `      ${waitLine({ what: event.what, since: now, ...(until === undefined ? {} : { until }) })}`,
          ),
        );
        return;
      }
      case 'step-progress':
        write(pc.dim(`    … ${event.title}: ${event.progress}`));
        return;
      case 'step': {
        if (event.state === 'running') {
          startedAt.set(event.step, Date.now());
          write(`  ${pc.dim('▹')} ${event.title}`);
          return;
        }
        const began = startedAt.get(event.step);
        const took = began === undefined ? '' : pc.dim(` (${((Date.now() - began) / 1000).toFixed(1)}s)`);
        if (event.state === 'done') {
          write(`  ${pc.green('✔')} ${event.title}${took}`);
          for (const line of event.output?.split('\n') ?? []) write(pc.dim(`      ${line}`));
        } else if (event.state === 'skipped')
          write(`  ${pc.dim('–')} ${event.title} ${pc.dim(`(${lastLine(event.output) ?? 'skipped'})`)}`);
        else write(`  ${pc.red('✖')} ${event.title}${took}: ${event.error ?? 'failed'}`);
        return;
      }
    }
  };
}

function lastLine(text: string | undefined): string | undefined {
  return text?.split('\n').at(-1);
}

/**
 * Progress of a plan: JSON lines in --json mode, a live task list on a terminal that has a width, plain lines
 * otherwise.
 * Always on stderr.
 */
export async function createProgressView(options: { json: boolean }): Promise<ProgressView> {
  // A terminal that reports no width (some ptys) would get the live list one character per line.
  if (!options.json && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0) return createTaskList();
  const print = eventPrinter(options);
  return { start: () => {}, event: print, end: async () => {} };
}
