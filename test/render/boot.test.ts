// The boot entry texts: the systemd unit (golden) and the crontab lines, added once, replaced, and removed
// without touching the user's other lines.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BootEntryError,
  type BootSpec,
  crontabEntry,
  crontabEntryOf,
  crontabMarker,
  crontabWith,
  crontabWithout,
  renderSystemdUnit,
  systemdUnitName,
  systemdUnitPath,
} from '../../src/render/boot.js';
import { assertGoldenFile } from '../helpers/golden.js';

const goldenDir = join(import.meta.dirname, 'golden');

const SPEC: BootSpec = {
  cluster: 'prod',
  supervisord: '/usr/bin/supervisord',
  iniPath: '/srv/mongo-deploy/supervisor/supervisor.ini',
  pidFile: '/srv/mongo-deploy/supervisor/supervisord.pid',
};

describe('systemd unit', () => {
  it('matches its golden file', async () => {
    await assertGoldenFile(join(goldenDir, 'boot-systemd.golden.service'), renderSystemdUnit(SPEC));
  });

  it('is named after the cluster and restarts supervisord only after a failure', () => {
    assert.equal(systemdUnitName('prod'), 'mup-prod.service');
    assert.equal(systemdUnitPath('prod'), '/etc/systemd/system/mup-prod.service');
    const unit = renderSystemdUnit(SPEC);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^Type=forking$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
  });

  it('quotes paths with blanks and doubles % (a systemd specifier)', () => {
    const unit = renderSystemdUnit({ ...SPEC, iniPath: '/srv/my 100%/supervisor.ini' });
    assert.match(unit, /^ExecStart=\/usr\/bin\/supervisord -c "\/srv\/my 100%%\/supervisor\.ini"$/m);
  });

  it('refuses relative or multi-line paths and bad cluster names', () => {
    assert.throws(() => renderSystemdUnit({ ...SPEC, iniPath: 'supervisor.ini' }), BootEntryError);
    assert.throws(
      () => renderSystemdUnit({ ...SPEC, supervisord: '/usr/bin/x\nExecStart=/bin/evil' }),
      BootEntryError,
    );
    assert.throws(() => renderSystemdUnit({ ...SPEC, cluster: 'a/b' }), BootEntryError);
    assert.throws(() => crontabEntry({ ...SPEC, pidFile: '/x\r' }), BootEntryError);
  });
});

describe('crontab entry', () => {
  it('is an @reboot line under a marker naming the cluster and its supervisor.ini', () => {
    assert.equal(
      crontabWith('', SPEC),
      [
        '# mup cluster prod: start its supervisord at boot (/srv/mongo-deploy/supervisor/supervisor.ini)',
        '@reboot /usr/bin/supervisord -c /srv/mongo-deploy/supervisor/supervisor.ini',
        '',
      ].join('\n'),
    );
  });

  it('quotes for sh and escapes % (cron turns it into a newline)', () => {
    assert.equal(
      crontabEntry({ ...SPEC, iniPath: "/srv/it's 5%/supervisor.ini" }),
      `@reboot /usr/bin/supervisord -c '/srv/it'"'"'s 5\\%/supervisor.ini'`,
    );
  });

  it('keeps the other lines, is added once, and is removed without a trace', () => {
    const user = 'MAILTO=ops@example.com\n# backups\n0 3 * * * /usr/local/bin/backup\n';
    const other: BootSpec = { ...SPEC, cluster: 'dev', iniPath: '/srv/dev/supervisor/supervisor.ini' };
    const both = crontabWith(crontabWith(user, SPEC), other);
    assert.equal(crontabWith(both, SPEC).split(crontabMarker(SPEC)).length, 2, 'one entry per cluster');
    assert.equal(crontabEntryOf(both, SPEC), crontabEntry(SPEC));
    assert.equal(crontabEntryOf(both, other), crontabEntry(other));
    const withoutProd = crontabWithout(both, SPEC);
    assert.equal(crontabEntryOf(withoutProd, SPEC), undefined);
    assert.equal(crontabEntryOf(withoutProd, other), crontabEntry(other));
    assert.equal(crontabWithout(withoutProd, other).replace(/\n+$/, ''), user.replace(/\n+$/, ''));
    // A user's own @reboot line that follows no marker stays.
    const own = '@reboot /usr/local/bin/mine\n';
    assert.equal(crontabWithout(crontabWith(own, SPEC), SPEC).replace(/\n+$/, ''), own.trim());
    // The same cluster name with another supervisor.ini (another mup home) is another entry.
    assert.equal(crontabEntryOf(both, { cluster: 'prod', iniPath: '/elsewhere/supervisor.ini' }), undefined);
  });
});
