// What a change between two rendered mongod/mongos config files needs: nothing, a `setParameter` on the
// running process (only runtime-settable parameters changed or were added), or a restart (anything else —
// an option read at startup, a startup-only parameter, or a parameter removed, whose default mup cannot
// restore at runtime).
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { MongoVersion } from './mongo-version.js';
import { isRuntimeSettable } from './runtime-parameters.js';

export type ConfigChange =
  | { kind: 'none' }
  | { kind: 'runtime'; parameters: Record<string, unknown> }
  | { kind: 'restart'; changed: string[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every setting as `dotted.path → value`; a server parameter's value is one leaf, whatever its shape. */
function leaves(tree: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isObject(tree)) return out;
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isObject(value) && path !== `setParameter.${key}`) {
      for (const [p, v] of leaves(value, path)) out.set(p, v);
    } else out.set(path, value);
  }
  return out;
}

/** The settings that differ between two config texts, as dotted paths, sorted. */
export function changedSettings(before: string, after: string): string[] {
  const a = leaves(parse(before));
  const b = leaves(parse(after));
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => !isDeepStrictEqual(a.get(p), b.get(p))).sort();
}

export function classifyConfigChange(
  before: string,
  after: string,
  program: 'mongod' | 'mongos',
  version: MongoVersion,
): ConfigChange {
  if (before === after) return { kind: 'none' };
  const changed = changedSettings(before, after);
  if (changed.length === 0) return { kind: 'none' };
  const next = leaves(parse(after));
  const parameters: Record<string, unknown> = {};
  for (const path of changed) {
    const name = path.startsWith('setParameter.') ? path.slice('setParameter.'.length) : undefined;
    if (name === undefined || !next.has(path) || !isRuntimeSettable(name, program, version))
      return { kind: 'restart', changed };
    parameters[name] = next.get(path);
  }
  return { kind: 'runtime', parameters };
}
