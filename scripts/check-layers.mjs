#!/usr/bin/env node
// The layer rule, enforced (part of `npm run lint`): data flows one way, cli → ops → plan → (hosts,
// supervisor, mongo, binaries, meta, render, topology); ui is used by cli and reads the result types of ops.
// A folder may import only the folders listed for it below. Also refused: an import cycle between files,
// and src/ importing the simulator (test infrastructure) or sim/ importing src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ALLOWED = {
  cli: ['cli', 'ops', 'ui', 'plan', 'meta', 'topology', 'binaries', 'hosts', 'errors'],
  ui: ['ui', 'ops', 'plan', 'binaries', 'topology', 'errors'],
  ops: ['ops', 'plan', 'hosts', 'supervisor', 'mongo', 'binaries', 'meta', 'render', 'topology', 'errors'],
  plan: ['plan', 'errors'],
  meta: ['meta', 'topology', 'errors'],
  supervisor: ['supervisor', 'hosts', 'render', 'topology', 'errors'],
  render: ['render', 'topology', 'errors'],
  mongo: ['mongo', 'topology', 'errors'],
  binaries: ['binaries', 'hosts', 'errors'],
  hosts: ['hosts', 'errors'],
  topology: ['topology', 'errors'],
  errors: [],
};

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const layerOf = (file) => {
  const [first] = relative(src, file).split('/');
  return first.endsWith('.ts') ? first.slice(0, -3) : first;
};

const IMPORT =
  /(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const problems = [];
const edges = new Map();
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  const from = layerOf(file);
  const allowed = ALLOWED[from];
  if (!allowed)
    problems.push(`${relative(root, file)}: folder '${from}' has no layer rule in scripts/check-layers.mjs`);
  const targets = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[2] ?? match[3];
    const typeOnly = match[1] !== undefined;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!target.startsWith(src)) {
      problems.push(`${relative(root, file)}: imports ${spec}, outside src/`);
      continue;
    }
    const to = layerOf(target);
    if (allowed && !allowed.includes(to))
      problems.push(`${relative(root, file)}: ${from} may not import ${to} (${spec})`);
    if (!typeOnly && !match[3]) targets.push(target);
  }
  edges.set(file, targets);
}

// File cycles among static value imports (Tarjan's strongly connected components).
let index = 0;
const stack = [];
const state = new Map();
function visit(file) {
  const node = { index, low: index, onStack: true };
  state.set(file, node);
  index++;
  stack.push(file);
  for (const next of edges.get(file) ?? []) {
    if (!edges.has(next)) continue;
    const seen = state.get(next);
    if (!seen) {
      visit(next);
      node.low = Math.min(node.low, state.get(next).low);
    } else if (seen.onStack) node.low = Math.min(node.low, seen.index);
  }
  if (node.low === node.index) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      state.get(member).onStack = false;
      component.push(relative(root, member));
    } while (member !== file);
    if (component.length > 1) problems.push(`import cycle: ${component.join(' → ')}`);
  }
}
for (const file of edges.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  console.error(`layer check: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`layer check: ${edges.size} files, no upward import, no cycle`);
