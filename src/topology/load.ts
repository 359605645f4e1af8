// The one entry point for a topology file: parse, check every rule, report all problems at once
// (TopologyError, exit 2), then resolve. Nothing is changed on any host.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { TopologyError } from './issues.js';
import { parseTopology, positionIssues } from './parse.js';
import { type ResolveOptions, resolveTopology } from './resolve.js';
import { checkRules, type UsedEndpoint } from './rules.js';
import type { TopologySpec } from './schema.js';
import type { ResolvedTopology } from './types.js';

export interface ValidateOptions {
  /** host:ports taken by other clusters mup manages. */
  usedEndpoints?: readonly UsedEndpoint[];
}

/** Checks topology text; `file` is only used in messages. Throws TopologyError listing every problem. */
export function validateTopology(text: string, file: string, options: ValidateOptions = {}): TopologySpec {
  const { issues, parsed } = parseTopology(text, file);
  if (!parsed) throw new TopologyError(file, issues);
  const { spec, doc, lineCounter } = parsed;
  const broken = [...issues, ...positionIssues(checkRules(spec, options), doc, lineCounter, file)];
  if (broken.length > 0) throw new TopologyError(file, broken);
  return spec;
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

/** Validates and resolves topology text in one go. */
export async function loadTopology(
  text: string,
  file: string,
  options: ValidateOptions & ResolveOptions,
): Promise<{ spec: TopologySpec; resolved: ResolvedTopology }> {
  const spec = validateTopology(text, file, options);
  return { spec, resolved: await resolveTopology(spec, options) };
}
