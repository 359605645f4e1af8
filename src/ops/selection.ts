// -R/--role and -N/--node selection on lifecycle commands (intersection when both are given), as in TiUP.
// A selection that names nothing real is refused (exit 2) before anything changes: an empty `-N "$NODE"`
// must never mean "every process".
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { ResolvedInstance, Role } from '../topology/types.js';

export const selectionSchema = z.object({
  roles: z.array(z.string()).optional(),
  nodes: z.array(z.string()).optional(),
});
export type Selection = z.infer<typeof selectionSchema>;

/** Arguments of the lifecycle verbs, and their check against the stored cluster (before any lock). */
export const selectionArgs = z.object({ selection: selectionSchema });
export const checkSelection = (
  meta: { topology: { instances: ResolvedInstance[] } },
  args: { selection: Selection },
) => void selectInstances(meta.topology.instances, args.selection);

const ROLES: readonly Role[] = ['mongod', 'config', 'mongos'];

export function isPartial(selection: Selection): boolean {
  return (selection.roles?.length ?? 0) > 0 || (selection.nodes?.length ?? 0) > 0;
}

export function selectInstances(
  instances: readonly ResolvedInstance[],
  selection: Selection,
): ResolvedInstance[] {
  const roles = selection.roles ?? [];
  const nodes = selection.nodes ?? [];
  for (const role of roles) {
    if (!ROLES.includes(role as Role))
      throw new UsageError(`unknown role '${role}'`, `roles are ${ROLES.join(', ')}`);
    if (!instances.some((i) => i.role === role))
      throw new UsageError(
        `this cluster has no ${role} processes`,
        `its roles are ${[...new Set(instances.map((i) => i.role))].join(', ')}`,
      );
  }
  for (const node of nodes) {
    if (!instances.some((i) => i.id === node || i.programName === node)) {
      throw new UsageError(
        `no process '${node}' in this cluster`,
        `processes: ${instances.map((i) => i.id).join(', ')}`,
      );
    }
  }
  const chosen = instances.filter(
    (i) =>
      (roles.length === 0 || roles.includes(i.role)) &&
      (nodes.length === 0 || nodes.includes(i.id) || nodes.includes(i.programName)),
  );
  if (chosen.length === 0)
    throw new UsageError(
      `no process is both of role ${roles.join(',')} and among ${nodes.join(',')}`,
      '-R and -N select the processes that match both',
    );
  return chosen;
}

/** Splits `a,b` lists given once or repeated; an empty entry (`-N ""`, `-N a,,b`) is refused. */
export function splitList(values: readonly string[] | undefined, flag: string): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  if (items.some((v) => v.length === 0))
    throw new UsageError(
      `${flag} has an empty value`,
      `give ${flag} a comma-separated list, or leave it out`,
    );
  return items;
}

/** One process by supervisor program name (`mongod-30001`) or id (`host:port`). */
export function findProgram(
  cluster: string,
  instances: readonly ResolvedInstance[],
  program: string,
): ResolvedInstance {
  const instance = instances.find((i) => i.programName === program || i.id === program);
  if (!instance)
    throw new UsageError(
      `no program '${program}' in cluster '${cluster}'`,
      `programs: ${instances.map((i) => i.programName).join(', ')}`,
    );
  return instance;
}
