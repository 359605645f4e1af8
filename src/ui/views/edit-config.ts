// Text form of edit-config's preview: the unified diff of every rendered file the edit changes.
import type { ConfigFileDiff } from '../../ops/edit-config.js';

export function describeConfigDiffs(files: readonly ConfigFileDiff[]): string {
  if (files.length === 0) return 'No rendered config file changes (the stored topology changes only).';
  const parts = files.map((f) => `# ${f.host}: ${f.path}\n${f.diff.trimEnd()}`);
  const count = files.length === 1 ? '1 file changes' : `${files.length} files change`;
  return `${parts.join('\n\n')}\n\n${count}; \`mup cluster reload\` applies them.`;
}
