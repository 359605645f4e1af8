// Topology text → checked TopologySpec, or every syntax and schema problem with its line and column.
import { type Document, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
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

/** A topology file is a few KB; anything this big is a mistake or an attack, refused before parsing. */
export const MAX_TOPOLOGY_BYTES = 2 * 1024 * 1024;
/** Deeper than any topology needs (a server config is a few levels), far below the parser's stack limit. */
export const MAX_NESTING = 32;
/** Aliases expanded per file; YAML "billion laughs" documents need thousands. */
const MAX_ALIASES = 100;

export function parseTopology(text: string, file: string): ParseResult {
  const at = (line: number, col: number, message: string): ParseResult => ({
    issues: [{ file, line, col, path: '', message }],
  });
  if (text.length > MAX_TOPOLOGY_BYTES) {
    return at(
      1,
      1,
      `the file has ${text.length} characters; a topology file may have at most ${MAX_TOPOLOGY_BYTES} (file size)`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        const what =
          error.code === 'RESOURCE_EXHAUSTION'
            ? `the document is nested too deeply; at most ${MAX_NESTING} levels`
            : (error.message.split('\n')[0]?.replace(/\s+at line \d+, column \d+:?$/, '') ?? error.message);
        return { file, line, col, path: '', message: `${what} (YAML syntax)` };
      }),
    };
  }
  // Unknown tags (!env, !!python/object, ...) would silently become plain strings: refuse them.
  if (doc.warnings.length > 0) {
    return {
      issues: doc.warnings.map((warning) => {
        const { line, col } = lineCounter.linePos(warning.pos[0]);
        const what = warning.message.split('\n')[0] ?? warning.message;
        return {
          file,
          line,
          col,
          path: '',
          message: `${what}; topology files use plain YAML values (YAML tags)`,
        };
      }),
    };
  }
  const aliasProblem = checkAliases(doc, lineCounter, file);
  if (aliasProblem) return { issues: [aliasProblem] };
  const spelled = checkIntegerSpelling(doc, lineCounter, file);
  if (spelled.length > 0) return { issues: spelled };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    const first = firstAlias(doc);
    const { line, col } = first?.range ? lineCounter.linePos(first.range[0]) : { line: 1, col: 1 };
    const why =
      error instanceof ReferenceError && /alias count/i.test(error.message)
        ? `aliases expand to too many nodes (more than ${MAX_ALIASES} alias uses); write the values out`
        : error instanceof Error
          ? error.message
          : String(error);
    return at(line, col, `${why} (YAML aliases)`);
  }
  if (data === null || data === undefined) {
    const message = 'the file has no topology; it needs at least mongod_servers (empty file)';
    return { issues: [{ file, line: 1, col: 1, path: '', message }] };
  }
  const tooDeep = deepestPath(data);
  if (tooDeep !== undefined) {
    const issue = positionIssues(
      [{ path: tooDeep, message: `is nested more than ${MAX_NESTING} levels deep (nesting)` }],
      doc,
      lineCounter,
      file,
    );
    return { issues: issue };
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

function firstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/** An alias to an anchor that is not defined before it, or that refers to the node it sits in. */
function checkAliases(doc: Document, lineCounter: LineCounter, file: string): PositionedIssue | undefined {
  let problem: PositionedIssue | undefined;
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc);
      const { line, col } = node.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
      if (target === undefined) {
        problem = {
          file,
          line,
          col,
          path: '',
          message: `alias *${node.source} has no anchor &${node.source} before it (YAML aliases)`,
        };
      } else if (path.some((ancestor) => ancestor === target)) {
        problem = {
          file,
          line,
          col,
          path: '',
          message: `alias *${node.source} refers to a node that contains it (YAML aliases)`,
        };
      }
      return problem ? visit.BREAK : undefined;
    },
  });
  return problem;
}

/** Keys whose value is a whole number (ports, votes, delays) in the topology schema. */
const INTEGER_KEYS = new Set(['port', 'ssh_port', 'votes', 'secondary_delay_secs']);

/**
 * YAML reads `1e3`, `0x10`, `0o17` and `+5` as numbers; for a port that silently turns a typo into port 1000
 * or 16. Integer fields must be written as plain decimal digits.
 */
function checkIntegerSpelling(doc: Document, lineCounter: LineCounter, file: string): PositionedIssue[] {
  const issues: PositionedIssue[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !INTEGER_KEYS.has(String(pair.key.value))) return;
      const value = pair.value;
      if (!isScalar(value) || !Number.isInteger(value.value) || value.source === undefined) return;
      if (/^-?[0-9]+$/.test(value.source)) return;
      const { line, col } = value.range ? lineCounter.linePos(value.range[0]) : { line: 1, col: 1 };
      issues.push({
        file,
        line,
        col,
        path: '',
        message: `${String(pair.key.value)} must be written as a plain decimal integer, got ${value.source} (type)`,
      });
    },
  });
  return issues;
}

/** The path of the first value nested deeper than MAX_NESTING, if any. */
function deepestPath(data: unknown): IssuePath | undefined {
  const walk = (value: unknown, path: (string | number)[]): IssuePath | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    if (path.length >= MAX_NESTING) return path;
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [key, child] of entries) {
      const found = walk(child, [...path, key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(data, []);
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
