// Golden-file comparison. UPDATE_GOLDEN=1 rewrites a golden file whose content differs and then fails that
// test, naming the file, so an update run can never pass silently: rerun without the variable (and review
// the diff) to see it pass. In CI (CI set) the variable is refused outright.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';

export function goldenUpdateRequested(): boolean {
  if (process.env.UPDATE_GOLDEN !== '1') return false;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false')
    throw new Error('UPDATE_GOLDEN=1 rewrites the expected files: it is refused when CI is set');
  return true;
}

export async function assertGoldenFile(path: string, actual: string): Promise<void> {
  if (goldenUpdateRequested()) {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current !== actual) {
      await writeFile(path, actual);
      assert.fail(`UPDATE_GOLDEN: rewrote ${path}; review the diff and rerun without UPDATE_GOLDEN`);
    }
  }
  assert.equal(actual, await readFile(path, 'utf8'));
}
