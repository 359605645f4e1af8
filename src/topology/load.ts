// The one entry point for a topology file: parse, check every rule, report all problems at once
// (TopologyError, exit 2), then resolve and check where the resolved dirs land. Nothing is changed on any host.
import { lstatSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { type PositionedIssue, TopologyError, type TopologyIssue } from './issues.js';
import { type ParsedTopology, parseTopology, positionIssues } from './parse.js';
import { checkDirPlacement, type DirPlacementOptions, type PathFacts } from './path-rules.js';
import { type ResolveOptions, resolveTopology } from './resolve.js';
import { checkRules, type UsedEndpoint } from './rules.js';
import type { TopologySpec } from './schema.js';
import type { ResolvedTopology } from './types.js';

export interface ValidateOptions {
  /** host:ports taken by other clusters mup manages. */
  usedEndpoints?: readonly UsedEndpoint[];
}

/** Parses and checks the rules; the parsed document is kept so later checks can point into the file. */
export function checkTopologyText(text: string, file: string, options: ValidateOptions = {}): ParsedTopology {
  const { issues, parsed } = parseTopology(text, file);
  if (!parsed) throw new TopologyError(file, issues);
  const { spec, doc, lineCounter } = parsed;
  const broken = [...issues, ...positionIssues(checkRules(spec, options), doc, lineCounter, file)];
  if (broken.length > 0) throw new TopologyError(file, broken);
  return parsed;
}

/** Checks topology text; `file` is only used in messages. Throws TopologyError listing every problem. */
export function validateTopology(text: string, file: string, options: ValidateOptions = {}): TopologySpec {
  return checkTopologyText(text, file, options).spec;
}

export async function readTopologyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(error);
    throw new UsageError(
      `cannot read topology file ${path}: ${why}`,
      'give the path of a topology YAML file',
    );
  }
}

/** What is at a local path itself, for the dir placement checks (a symbolic link is not followed). */
export function inspectLocalPath(path: string): PathFacts {
  try {
    const found = lstatSync(path);
    const kind = found.isSymbolicLink() ? 'link' : found.isDirectory() ? 'dir' : 'other';
    return { kind, uid: found.uid, mode: found.mode & 0o7777 };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file, which the walk from the root reports at that parent.
    return { kind: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'other' };
  }
}

/** The real path of an existing local path; the path itself when it cannot be resolved (checked as written). */
export function localRealPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The user ids trusted to own a cluster's existing dirs by default: the user running mup, and root. */
export function defaultTrustedOwners(): number[] {
  const uid = process.getuid?.();
  return uid === undefined ? [] : [...new Set([uid, 0])];
}

export interface LoadedTopology extends ParsedTopology {
  resolved: ResolvedTopology;
}

/** Validates, resolves and checks the placement of every dir; throws TopologyError with positions. */
export async function loadTopology(
  text: string,
  file: string,
  options: ValidateOptions & ResolveOptions & DirPlacementOptions,
): Promise<LoadedTopology> {
  const parsed = checkTopologyText(text, file, options);
  const resolved = await resolveTopology(parsed.spec, options);
  const placement = checkDirPlacement(parsed.spec, resolved, {
    inspectPath: options.inspectPath ?? inspectLocalPath,
    realPathOf: options.realPathOf ?? localRealPath,
    trustedOwners: options.trustedOwners ?? defaultTrustedOwners(),
  });
  throwIfAny(file, parsed, placement);
  return { ...parsed, resolved };
}

/** Positions issues found after parsing and throws them as one TopologyError. */
export function throwIfAny(file: string, parsed: ParsedTopology, issues: readonly TopologyIssue[]): void {
  if (issues.length === 0) return;
  const positioned: PositionedIssue[] = positionIssues(issues, parsed.doc, parsed.lineCounter, file);
  throw new TopologyError(file, positioned);
}
