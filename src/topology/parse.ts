// Topology text → checked TopologySpec, or every syntax and schema problem with its line and column.
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  describeValue,
  formatPath,
  type IssuePath,
  type PositionedIssue,
  type TopologyIssue,
} from './issues.js';
import { locate } from './positions.js';
import { type TopologySpec, topologySchema } from './schema.js';

export interface ParsedTopology {
  spec: TopologySpec;
  /** Kept so that later rules can position their issues in the same file. */
  doc: Document;
  lineCounter: LineCounter;
}

/**
 * `issues` are syntax and schema problems. `parsed` is present when the document has the right shape apart
 * from unknown keys (they are reported, then left out), so that the cross-field rules can still run and
 * every problem is reported at once.
 */
export interface ParseResult {
  issues: PositionedIssue[];
  parsed?: ParsedTopology;
}

export function parseTopology(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        const what =
          error.message.split('\n')[0]?.replace(/\s+at line \d+, column \d+:?$/, '') ?? error.message;
        return { file, line, col, path: '', message: `${what} (YAML syntax)` };
      }),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    const message = 'the file has no topology; it needs at least mongod_servers (empty file)';
    return { issues: [{ file, line: 1, col: 1, path: '', message }] };
  }
  const result = topologySchema.safeParse(data);
  if (result.success) return { issues: [], parsed: { spec: result.data, doc, lineCounter } };
  const zodIssues = result.error.issues;
  const issues = positionIssues(
    zodIssues.flatMap((issue) => fromZodIssue(issue, data)),
    doc,
    lineCounter,
    file,
  );
  if (!zodIssues.every((issue) => issue.code === 'unrecognized_keys')) return { issues };
  const retry = topologySchema.safeParse(withoutUnknownKeys(data, zodIssues));
  return retry.success ? { issues, parsed: { spec: retry.data, doc, lineCounter } } : { issues };
}

/** A copy of `data` without the keys zod reported as unknown. */
function withoutUnknownKeys(data: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(data);
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const target = valueAt(
      copy,
      issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
    );
    if (target === null || typeof target !== 'object') continue;
    for (const key of issue.keys) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}

export function positionIssues(
  issues: readonly TopologyIssue[],
  doc: Document,
  lineCounter: LineCounter,
  file: string,
): PositionedIssue[] {
  return issues.map((issue) => {
    const { line, col } = locate(doc, lineCounter, issue.path, issue.atKey);
    return { file, line, col, path: formatPath(issue.path), message: issue.message };
  });
}

function fromZodIssue(issue: z.core.$ZodIssue, data: unknown): TopologyIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(path);
      const hint = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'unknown key';
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown key (${hint})`,
        atKey: true,
      }));
    }
    case 'invalid_type': {
      const value = valueAt(data, path);
      if (value === undefined) return [{ path, message: 'is required (required key)' }];
      // Schemas with their own wording (integers) already say what was found.
      if (issue.message.endsWith('(type)')) return [{ path, message: issue.message }];
      return [
        { path, message: `must be ${expectedText(issue.expected)}, got ${describeValue(value)} (type)` },
      ];
    }
    case 'invalid_union':
      return [
        { path, message: `must be a number or a string, got ${describeValue(valueAt(data, path))} (type)` },
      ];
    default: {
      // Our own messages already end with "(rule)"; zod's generic ones get a generic rule name.
      const message = issue.message.endsWith(')') ? issue.message : `${issue.message} (value)`;
      return [{ path, message }];
    }
  }
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    default:
      return expected;
  }
}

function valueAt(data: unknown, path: IssuePath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  valueType?: { _zod: { def: SchemaDef } };
}

/** Keys the schema accepts at `path`, for the "unknown key" message. */
function allowedKeysAt(path: IssuePath): string[] {
  let def = (topologySchema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  const unwrap = () => {
    while ((def.type === 'optional' || def.type === 'nullable') && def.innerType)
      def = def.innerType._zod.def;
  };
  for (const segment of path) {
    unwrap();
    const next =
      def.type === 'object'
        ? def.shape?.[String(segment)]
        : def.type === 'array'
          ? def.element
          : def.type === 'record'
            ? def.valueType
            : undefined;
    if (!next) return [];
    def = next._zod.def;
  }
  unwrap();
  // replicaSetId is in the schema only to be refused with a reason.
  return def.type === 'object' ? Object.keys(def.shape ?? {}).filter((key) => key !== 'replicaSetId') : [];
}
