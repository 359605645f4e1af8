// A cluster's boot entry on the local host through its Executor: several clusters installed and removed at
// once all land (the crontab is edited under a lock and only if unchanged), status reports each, removal
// leaves nothing. Only this test's own entries are touched, and removed whatever happens.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/hosts/local.js';
import type { BootSpec } from '../../src/render/boot.js';
import {
  bootStatus,
  chooseBootMethod,
  installBootEntry,
  removeBootEntry,
} from '../../src/supervisor/boot.js';
import { tempDir } from '../helpers/cli.js';

describe('boot entries on this host', () => {
  it('chooses systemd only where systemd is the init and mup is root', async () => {
    const executor = new LocalExecutor();
    const systemd = existsSync('/run/systemd/system') && process.getuid?.() === 0;
    assert.equal(await chooseBootMethod(executor), systemd ? 'systemd' : 'crontab');
  });

  it('installs and removes the crontab entries of several clusters at once without losing one', async (t) => {
    const executor = new LocalExecutor();
    if ((await chooseBootMethod(executor)) !== 'crontab') return t.skip('this host would use systemd');
    const dir = await tempDir('mup-boot-');
    const specs: BootSpec[] = ['a', 'b', 'c', 'd'].map((n) => ({
      cluster: `boot-test-${process.pid}-${n}`,
      supervisord: '/usr/bin/supervisord',
      iniPath: join(dir, n, 'supervisor.ini'),
      pidFile: join(dir, n, 'supervisord.pid'),
    }));
    try {
      const installed = await Promise.all(specs.map((spec) => installBootEntry(executor, spec)));
      for (const [i, status] of installed.entries())
        assert.equal(status.detail, `@reboot /usr/bin/supervisord -c ${specs[i]?.iniPath}`);
      for (const spec of specs) {
        const status = await bootStatus(executor, spec);
        assert.equal(status.method, 'crontab', `${spec.cluster} has its entry`);
      }
      // Installing again replaces, never duplicates.
      await installBootEntry(executor, specs[0] as BootSpec);
      const listed = (await executor.run('crontab', ['-l'])).stdout;
      assert.equal(listed.split(`# mup cluster ${specs[0]?.cluster}:`).length, 2);

      const removed = await Promise.all(specs.map((spec) => removeBootEntry(executor, spec)));
      assert.deepEqual(
        removed,
        specs.map(() => ['crontab @reboot entry']),
      );
      for (const spec of specs) assert.equal((await bootStatus(executor, spec)).method, 'none');
      assert.deepEqual(await removeBootEntry(executor, specs[0] as BootSpec), [], 'nothing left to remove');
    } finally {
      for (const spec of specs) await removeBootEntry(executor, spec).catch(() => undefined);
    }
  });
});
