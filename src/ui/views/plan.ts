// The text form of a plan: what --dry-run prints and the confirmation prompt shows. Before the steps, the
// cluster the plan leaves behind — engine and version, every process's address, the URI — in 100 columns.
import type { PlanOutline, PlanTarget } from '../../plan/types.js';

const WIDTH = 100;

/** `label: a, b, c` wrapped under the first item when it would pass WIDTH. */
function wrapList(label: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  const indent = ' '.repeat(label.length);
  let line = label;
  let first = true;
  for (const item of items) {
    const piece = first ? item : `, ${item}`;
    if (!first && line.length + piece.length > WIDTH) {
      lines.push(`${line},`);
      line = `${indent}${item}`;
    } else line += piece;
    first = false;
  }
  lines.push(line);
  return lines;
}

type TargetProcess = PlanTarget['processes'][number];

function groupLabel(kind: PlanTarget['kind'], p: TargetProcess): string {
  if (p.role === 'mongos') return 'mongos';
  if (p.role === 'config') return `config servers ${p.replicaSet ?? ''}`.trimEnd();
  if (p.replicaSet === undefined) return 'mongod';
  return kind === 'sharded' ? `shard ${p.replicaSet}` : `replica set ${p.replicaSet}`;
}

/** `localhost:30000, 30001, 30002, 10.0.0.5:27017`: a host named once for its run of ports. */
function addresses(processes: readonly TargetProcess[]): string[] {
  let host: string | undefined;
  return processes.map((p) => {
    const item =
      p.host === host ? String(p.port) : `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
    host = p.host;
    return item;
  });
}

export function describeTarget(target: PlanTarget): string[] {
  const count = target.processes.length;
  const lines = [
    `  Cluster: ${target.kind}, ${target.engine} ${target.version}, ${count} process${count === 1 ? '' : 'es'}`,
  ];
  const groups = new Map<string, TargetProcess[]>();
  for (const p of target.processes) {
    const label = groupLabel(target.kind, p);
    groups.set(label, [...(groups.get(label) ?? []), p]);
  }
  const width = Math.max(...[...groups.keys()].map((l) => l.length));
  for (const [label, processes] of groups)
    lines.push(...wrapList(`    ${`${label}:`.padEnd(width + 2)}`, addresses(processes)));
  if (target.uri !== '') lines.push(`  URI: ${target.uri}`);
  return lines;
}

export function describePlan(outline: PlanOutline): string {
  const lines = [`Plan: ${outline.operation} ${outline.cluster}`];
  if (outline.target) lines.push(...describeTarget(outline.target));
  outline.phases.forEach((phase, index) => {
    const together = phase.parallel === true && phase.steps.length > 1 ? ' (in parallel)' : '';
    lines.push(`  ${index + 1}. ${phase.title}${together}`);
    for (const step of phase.steps)
      lines.push(`     - ${step.title}${phase.parallel === 'lanes' && step.lane ? `  [${step.lane}]` : ''}`);
  });
  return lines.join('\n');
}
