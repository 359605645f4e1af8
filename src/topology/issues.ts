// Topology problems and how they are reported: `file:line:col  path.to.field: what is wrong (rule)`,
// every problem of a file at once.
import { UsageError } from '../errors.js';

export type IssuePath = readonly (string | number)[];

/** A problem found in the topology, before it is given a position in the file. */
export interface TopologyIssue {
  /** Where in the document: keys and list indexes from the root. Empty for YAML syntax errors. */
  path: IssuePath;
  /** What is wrong, ending with the rule in parentheses: `must be 0 or 1 (member votes)`. */
  message: string;
  /** Point at the key itself (unknown keys) rather than at its value. */
  atKey?: boolean;
}

/** A problem with its place in the file; line and col are 1-based. */
export interface PositionedIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/** A short description of a YAML value for messages: `a string "x"`, `the fraction 1.5`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `a string ${JSON.stringify(value)}`;
    case 'number':
      if (!Number.isFinite(value)) return `${value}`;
      return Number.isInteger(value) ? `the number ${value}` : `the fraction ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

export function formatPath(path: IssuePath): string {
  return path.map(String).join('.');
}

export function formatIssue(issue: PositionedIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.path === '' ? `${where}  ${issue.message}` : `${where}  ${issue.path}: ${issue.message}`;
}

/** Issues in file order, so the report reads top to bottom. */
export function sortIssues(issues: readonly PositionedIssue[]): PositionedIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The topology file is invalid; carries every problem found. Exit 2, nothing changed. */
export class TopologyError extends UsageError {
  readonly file: string;
  readonly issues: readonly PositionedIssue[];

  constructor(file: string, issues: readonly PositionedIssue[]) {
    const sorted = sortIssues(issues);
    const count = sorted.length === 1 ? '1 error' : `${sorted.length} errors`;
    super(
      `${file} is not a valid topology (${count}):\n${sorted.map(formatIssue).join('\n')}`,
      'fix the lines above; `mup template --full` prints an example with every option',
    );
    this.file = file;
    this.issues = sorted;
  }
}
