// The text form of a plan: what --dry-run prints and the confirmation prompt shows.
import type { PlanOutline } from '../../plan/types.js';

export function describePlan(outline: PlanOutline): string {
  const lines = [`Plan: ${outline.operation} ${outline.cluster}`];
  outline.phases.forEach((phase, index) => {
    const together = phase.parallel === true && phase.steps.length > 1 ? ' (in parallel)' : '';
    lines.push(`  ${index + 1}. ${phase.title}${together}`);
    for (const step of phase.steps)
      lines.push(`     - ${step.title}${phase.parallel === 'lanes' && step.lane ? `  [${step.lane}]` : ''}`);
  });
  return lines.join('\n');
}
