// What the plan runner tells whoever shows progress. The ui implements it (task list, plain lines, JSON
// events); operations only pass it along, so no layer below cli imports the ui.
import type { PlanEvent, PlanOutline } from './types.js';

export interface ProgressView {
  start(outline: PlanOutline): void;
  event(event: PlanEvent): void;
  /** Settles the view after the run (steps never reached are shown as not run). */
  end(): Promise<void>;
}
