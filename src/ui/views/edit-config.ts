// Text form of edit-config's preview: the unified diff of every rendered file the edit changes, and the
// replica-set reconfigs (member options, settings) reload will make for it.
import type { ConfigFileDiff } from '../../ops/edit-config.js';

export function describeConfigDiffs(
  files: readonly ConfigFileDiff[],
  reconfigs: readonly string[] = [],
): string {
  const sections: string[] = [];
  if (files.length === 0 && reconfigs.length === 0)
    return 'No rendered config file changes (the stored topology changes only).';
  if (files.length > 0) {
    const parts = files.map((f) => `# ${f.host}: ${f.path}\n${f.diff.trimEnd()}`);
    const count = files.length === 1 ? '1 file changes' : `${files.length} files change`;
    sections.push(`${parts.join('\n\n')}\n\n${count}; \`mup cluster reload\` applies them.`);
  }
  if (reconfigs.length > 0)
    sections.push(
      `Replica-set reconfigs \`mup cluster reload\` will make (no restart):\n${reconfigs.map((r, n) => `  ${n + 1}. ${r}`).join('\n')}`,
    );
  return sections.join('\n\n');
}
