// packBinaries: the bin dir packed once per content, its sha256 kept beside the archive for later deploys.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { packBinaries } from '../../src/ops/ship.js';
import { tempDir } from '../helpers/cli.js';

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

test('the archive is packed once and its sum is kept; a sum file that does not fit the archive is redone', async () => {
  const home = await tempDir('mup-pack-home-');
  const binDir = await tempDir('mup-pack-bin-');
  await writeFile(join(binDir, 'mongod'), '#!/bin/sh\necho mongod\n', { mode: 0o755 });
  await writeFile(join(binDir, 'mongos'), '#!/bin/sh\necho mongos\n', { mode: 0o755 });

  const first = await packBinaries(home, binDir);
  assert.equal(first.sha256, await sha256Of(first.archive));
  const sumFile = `${first.archive}.sha256`;
  const { size, mtimeMs } = await stat(first.archive);
  assert.equal(await readFile(sumFile, 'utf8'), `${first.sha256} ${size}\n`);

  // Again: the same archive (not packed anew) and the kept sum, read, not computed (a planted sum is believed).
  const planted = 'a'.repeat(64);
  await writeFile(sumFile, `${planted} ${size}\n`);
  const second = await packBinaries(home, binDir);
  assert.equal(second.archive, first.archive);
  assert.equal((await stat(second.archive)).mtimeMs, mtimeMs);
  assert.equal(second.sha256, planted);

  // A sum file naming another size (the archive was replaced) or unreadable is computed again and rewritten.
  for (const stale of [`${planted} ${size + 1}\n`, 'garbage\n']) {
    await writeFile(sumFile, stale);
    const again = await packBinaries(home, binDir);
    assert.equal(again.sha256, first.sha256);
    assert.equal(await readFile(sumFile, 'utf8'), `${first.sha256} ${size}\n`);
  }
});
