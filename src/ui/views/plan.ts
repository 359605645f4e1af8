// The text form of a plan: what --dry-run prints and the confirmation prompt shows.
import type { PlanOutline } from '../../plan/types.js';

export function describePlan(outline: PlanOutline): string {
  const lines = [`Plan: ${outline.operation} ${outline.cluster}`];
  outline.phases.forEach((phase, index) => {
    lines.push(
      `  ${index + 1}. ${phase.title}${phase.parallel && phase.steps.length > 1 ? ' (in parallel)' : ''}`,
    );
    for (const step of phase.steps) lines.push(`     - ${step.title}`);
  });
  return lines.join('\n');
}
