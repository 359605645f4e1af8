// Array update operators in update paths: the positional `$` (the array element the query matched),
// all-positional `$[]` and filtered-positional `$[<identifier>]` with the statement's arrayFilters.
// Error codes and texts follow mongod's update_array_node / array_filter / update_driver (MongoDB manual:
// "$ (update)", "$[]", "$[<identifier>]").
import { type Document, Int32 } from 'bson';
import { cloneValue } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter, type Predicate } from './match.js';
import { getPath, isPlainDocument, setPath } from './paths.js';

/** What array segments of one update statement resolve against. */
export interface ArrayUpdateContext {
  /** identifier → predicate on one array element (arrayFilters). */
  readonly filters: ReadonlyMap<string, Predicate>;
  /** The statement's query, for the positional `$`. */
  readonly query: Document | undefined;
}

const IDENTIFIER = /^[a-z][a-zA-Z0-9]*$/;
const FILTERED = /^\$\[([^\]]*)\]$/;

/** True when an update path has a `$`, `$[]` or `$[id]` segment. */
export function hasArraySegment(path: string): boolean {
  return path.split('.').some((p) => p === '$' || FILTERED.test(p));
}

/**
 * Parses arrayFilters and checks them against the update's paths: every filter names one identifier, each
 * identifier is used in the update and every `$[id]` in the update has a filter (mongod checks all of this
 * before looking at any document).
 */
export function parseArrayFilters(raw: unknown, update: Document): Map<string, Predicate> {
  const filters = new Map<string, Predicate>();
  if (raw !== undefined && !Array.isArray(raw)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      "BSON field 'arrayFilters' is the wrong type, expected type 'array'",
    );
  }
  for (const f of (raw as unknown[] | undefined) ?? []) {
    if (!isPlainDocument(f)) {
      throw new CommandError(ErrorCode.TypeMismatch, 'Each array filter must be an object');
    }
    let id: string | undefined;
    for (const key of Object.keys(f)) {
      const top = key.split('.')[0] as string;
      if (!IDENTIFIER.test(top)) {
        throw new CommandError(
          ErrorCode.BadValue,
          `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${top}'`,
        );
      }
      if (id !== undefined && id !== top) {
        throw new CommandError(
          ErrorCode.FailedToParse,
          `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${id}' and '${top}'`,
        );
      }
      id = top;
    }
    if (id === undefined) {
      throw new CommandError(
        ErrorCode.FailedToParse,
        'Cannot use an expression without a top-level field name in arrayFilters',
      );
    }
    if (filters.has(id)) {
      throw new CommandError(
        ErrorCode.FailedToParse,
        `Found multiple array filters with the same top-level field name ${id}`,
      );
    }
    filters.set(id, compileFilter(f));
  }
  const used = new Set<string>();
  for (const fields of Object.values(update)) {
    if (!isPlainDocument(fields)) continue;
    for (const path of Object.keys(fields)) {
      for (const part of path.split('.')) {
        const m = FILTERED.exec(part);
        if (!m || m[1] === '') continue;
        const id = m[1] as string;
        if (!filters.has(id)) {
          throw new CommandError(
            ErrorCode.BadValue,
            `No array filter found for identifier '${id}' in path '${path}'`,
          );
        }
        used.add(id);
      }
    }
  }
  for (const id of filters.keys()) {
    if (!used.has(id)) {
      throw new CommandError(
        ErrorCode.FailedToParse,
        `The array filter for identifier '${id}' was not used in the update ${shellDoc(update)}`,
      );
    }
  }
  return filters;
}

function shellDoc(v: unknown): string {
  if (isPlainDocument(v)) {
    const parts = Object.entries(v).map(([k, x]) => `${k}: ${shellDoc(x)}`);
    return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v instanceof Int32 ? v.value : v);
}

/** The index the query matched in the array at `arrayPath`, for the positional `$`. */
function positionalIndex(doc: Document, arrayPath: string, query: Document | undefined): number | undefined {
  const arr = getPath(doc, arrayPath);
  if (!Array.isArray(arr) || !query) return undefined;
  // The query clauses about this array (the path itself or a field inside its elements), also inside $and.
  const clauses: Document[] = [];
  const collect = (q: Document): void => {
    for (const [k, v] of Object.entries(q)) {
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainDocument(sub)) collect(sub);
      } else if (k === arrayPath || k.startsWith(`${arrayPath}.`)) {
        clauses.push({ [k]: v });
      }
    }
  };
  collect(query);
  if (clauses.length === 0) return undefined;
  const preds = clauses.map((c) => compileFilter(c));
  for (let i = 0; i < arr.length; i++) {
    const probe = cloneValue(doc);
    setPath(probe, arrayPath, [arr[i]]);
    if (preds.every((p) => p(probe))) return i;
  }
  return undefined;
}

/** The concrete paths (array segments replaced by indexes) an update path with array segments names. */
export function expandArrayPath(doc: Document, path: string, ctx: ArrayUpdateContext): string[] {
  const parts = path.split('.');
  let prefixes: string[][] = [[]];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const filtered = FILTERED.exec(part);
    if (part !== '$' && !filtered) {
      prefixes = prefixes.map((p) => [...p, part]);
      continue;
    }
    const next: string[][] = [];
    for (const prefix of prefixes) {
      const at = prefix.join('.');
      if (part === '$') {
        const index = positionalIndex(doc, at, ctx.query);
        if (index === undefined) {
          throw new CommandError(
            ErrorCode.BadValue,
            'The positional operator did not find the match needed from the query.',
          );
        }
        next.push([...prefix, String(index)]);
        continue;
      }
      const value = getPath(doc, at);
      if (value === undefined) {
        throw new CommandError(
          ErrorCode.BadValue,
          `The path '${at}' must exist in the document in order to apply array updates.`,
        );
      }
      if (!Array.isArray(value)) {
        throw new CommandError(
          ErrorCode.BadValue,
          `Cannot apply array updates to non-array element ${prefix[prefix.length - 1]}: ${shellDoc(value)}`,
        );
      }
      const id = filtered?.[1] ?? '';
      const pred = id === '' ? undefined : ctx.filters.get(id);
      value.forEach((el, index) => {
        if (!pred || pred({ [id]: el })) next.push([...prefix, String(index)]);
      });
    }
    prefixes = next;
  }
  return prefixes.map((p) => p.join('.'));
}
