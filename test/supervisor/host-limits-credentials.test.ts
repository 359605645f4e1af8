import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/hosts/local.js';
import { generateSupervisorCredentials } from '../../src/supervisor/credentials.js';
import { minfdsForHost, readHardFileLimit } from '../../src/supervisor/host-limits.js';

describe('host limits', () => {
  it('reads the hard open-file limit and keeps minfds within it', async () => {
    const executor = new LocalExecutor();
    const shell = await executor.run('/bin/sh', ['-c', 'ulimit -Hn']);
    const expected = shell.stdout.trim() === 'unlimited' ? 'unlimited' : Number(shell.stdout.trim());
    assert.equal(await readHardFileLimit(executor), expected);
    const minfds = await minfdsForHost(executor);
    assert.equal(minfds, expected === 'unlimited' ? 64000 : Math.min(64000, expected));
  });
});

describe('supervisor credentials', () => {
  it('are random per call and safe to write into the ini', () => {
    const first = generateSupervisorCredentials();
    const second = generateSupervisorCredentials();
    assert.equal(first.username, 'mup');
    assert.notEqual(first.password, second.password);
    assert.match(first.password, /^[A-Za-z0-9_-]{43}$/);
    const fixed = generateSupervisorCredentials((size) => Buffer.alloc(size, 0xff));
    assert.equal(fixed.password, `${'_'.repeat(42)}8`);
  });
});
