// -R/--role and -N/--node selection on lifecycle commands (intersection when both are given), as in TiUP.
import { UsageError } from '../errors.js';
import type { ResolvedInstance, Role } from '../topology/types.js';

export interface Selection {
  roles?: readonly string[] | undefined;
  nodes?: readonly string[] | undefined;
}

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
  }
  for (const node of nodes) {
    if (!instances.some((i) => i.id === node || i.programName === node)) {
      throw new UsageError(
        `no process '${node}' in this cluster`,
        `processes: ${instances.map((i) => i.id).join(', ')}`,
      );
    }
  }
  return instances.filter(
    (i) =>
      (roles.length === 0 || roles.includes(i.role)) &&
      (nodes.length === 0 || nodes.includes(i.id) || nodes.includes(i.programName)),
  );
}

/** Splits `a,b` lists given once or repeated. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
