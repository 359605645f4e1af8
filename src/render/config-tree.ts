// Plain-object helpers for config trees: expanding dotted keys, merging the user's settings into mup's,
// and putting keys in a stable order so that an unchanged cluster renders byte-identical files.
import { isDeepStrictEqual } from 'node:util';
import type { ConfigProblem } from './config-problems.js';

export type ConfigTree = Record<string, unknown>;

export function isConfigTree(value: unknown): value is ConfigTree {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The value at a dotted path, or undefined. */
export function getPath(tree: ConfigTree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (!isConfigTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Every leaf (non-section value) of a tree, as [dotted path, value], in key order. */
export function leaves(tree: ConfigTree, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isConfigTree(value)) out.push(...leaves(value, path));
    else out.push([path, value]);
  }
  return out;
}

/**
 * Turns `{ 'storage.wiredTiger.engineConfig.cacheSizeGB': 1 }` into nested sections, as mongod reads
 * dotted names in its option table (topology files may use either spelling). Keys are visited in sorted order
 * so the result does not depend on how the user ordered them.
 */
export function expandDottedKeys(tree: ConfigTree): { tree: ConfigTree; problems: ConfigProblem[] } {
  const out: ConfigTree = {};
  const problems: ConfigProblem[] = [];
  for (const [path, value] of leavesSorted(tree)) setLeaf(out, path, value, problems);
  return { tree: out, problems };
}

function leavesSorted(tree: ConfigTree, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const key of Object.keys(tree).sort(compareKeys)) {
    const value = tree[key];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    // An empty section sets nothing; keep it out so it cannot clash with anything.
    if (isConfigTree(value)) out.push(...leavesSorted(value, path));
    else out.push([path, value]);
  }
  return out;
}

function setLeaf(root: ConfigTree, path: string, value: unknown, problems: ConfigProblem[]): void {
  const keys = path.split('.');
  let node = root;
  for (const [index, key] of keys.entries()) {
    const soFar = keys.slice(0, index + 1).join('.');
    if (index === keys.length - 1) {
      if (key in node && !isDeepStrictEqual(node[key], value)) {
        const message = isConfigTree(node[key])
          ? 'is given both as a value and as a section'
          : 'is given twice (dotted and nested) with different values';
        problems.push({ code: 'duplicate-key', option: soFar, message });
        return;
      }
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === undefined) {
      const section: ConfigTree = {};
      node[key] = section;
      node = section;
    } else if (isConfigTree(next)) {
      node = next;
    } else {
      problems.push({
        code: 'duplicate-key',
        option: soFar,
        message: 'is given both as a value and as a section',
      });
      return;
    }
  }
}

/**
 * Deep-merges the user's (expanded) tree into mup's. Sections merge key by key; any other value replaces
 * mup's, except on the paths in `owned`: there a differing user value is a problem and mup's value stays,
 * so rendering never overrides the user silently (the caller refuses to render while problems remain).
 */
export function mergeUserConfig(
  base: ConfigTree,
  user: ConfigTree,
  owned: ReadonlySet<string>,
): { tree: ConfigTree; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const tree = mergeInto(structuredClone(base), user, '', owned, problems);
  return { tree, problems };
}

function mergeInto(
  target: ConfigTree,
  user: ConfigTree,
  prefix: string,
  owned: ReadonlySet<string>,
  problems: ConfigProblem[],
): ConfigTree {
  for (const [key, value] of Object.entries(user)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const current = target[key];
    if (owned.has(path)) {
      if (!isDeepStrictEqual(current, value)) problems.push(ownedProblem(path, current, value));
      continue;
    }
    if (isConfigTree(value)) {
      if (current !== undefined && !isConfigTree(current)) {
        problems.push({ code: 'type-mismatch', option: path, message: 'is a value, not a section' });
        continue;
      }
      target[key] = mergeInto(current ?? {}, value, path, owned, problems);
    } else if (isConfigTree(current)) {
      problems.push({
        code: 'type-mismatch',
        option: path,
        message: 'is a section; give its options instead',
      });
    } else {
      target[key] = value;
    }
  }
  return target;
}

function ownedProblem(path: string, mupValue: unknown, userValue: unknown): ConfigProblem {
  const wanted = mupValue === undefined ? 'leaves it unset' : `sets it to ${JSON.stringify(mupValue)}`;
  return {
    code: 'mup-owned',
    option: path,
    message: `is managed by mup from the topology (mup ${wanted}); remove ${JSON.stringify(userValue)} from the server config`,
  };
}

// Code-point order, independent of the machine's locale.
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * A copy with a stable key order: top-level sections in `topLevelOrder` (then any others alphabetically),
 * every nested section alphabetically. The order depends only on the keys present, never on insertion
 * order, so merging the same settings in any order renders the same bytes.
 */
export function orderKeys(tree: ConfigTree, topLevelOrder: readonly string[]): ConfigTree {
  const rank = (key: string): number => {
    const index = topLevelOrder.indexOf(key);
    return index === -1 ? topLevelOrder.length : index;
  };
  const keys = Object.keys(tree).sort((a, b) => rank(a) - rank(b) || compareKeys(a, b));
  return Object.fromEntries(keys.map((key) => [key, orderNested(tree[key])]));
}

function orderNested(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(orderNested);
  if (!isConfigTree(value)) return value;
  const keys = Object.keys(value).sort(compareKeys);
  return Object.fromEntries(keys.map((key) => [key, orderNested(value[key])]));
}
