// Applying supervisor.ini changes to a live daemon: only changed groups are touched, in the caller's order;
// a broken file is refused and the daemon keeps its old configuration.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applySupervisorConfig, SupervisorConfigRejectedError } from '../../src/supervisor/apply.js';
import { freePort, makeTestHost, refOf } from './harness.js';
import { simPrograms, withQuiet } from './sim-members.js';

describe('applySupervisorConfig', () => {
  it('adds, removes and replaces only what changed, in the order given, with callbacks around each', async (t) => {
    const host = await makeTestHost(t, 'apply');
    const [a, b, c, d] = await simPrograms(join(host.root, 'deploy'), ['a', 'b', 'c', 'd'], freePort);
    assert.ok(a && b && c && d);
    await host.writeIni([a, b, c]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    for (const program of [a, b, c]) host.trackPid((await control.start(refOf(program))).pid);
    const pidOf = async (name: string) => (await control.info({ name })).pid;
    const aPid = await pidOf('a');

    const events: string[] = [];
    const changedB = withQuiet(b);
    const changedC = withQuiet(c);
    const result = await applySupervisorConfig(
      host.daemon,
      await host.renderIni([a, changedB, changedC, d]),
      {
        order: (changed) => {
          events.push(`order ${changed.join(',')}`);
          return ['c', 'b'];
        },
        beforeReplace: async (group) => {
          events.push(`before ${group}`);
        },
        afterReplace: async (group) => {
          events.push(`after ${group} ${(await control.info({ name: group })).state}`);
        },
      },
    );
    assert.deepEqual(result, {
      added: ['d'],
      changed: ['b', 'c'],
      removed: [],
      started: ['c', 'b'],
      daemonSettingsChanged: false,
    });
    assert.deepEqual(events, ['order b,c', 'before c', 'after c RUNNING', 'before b', 'after b RUNNING']);
    assert.equal(await pidOf('a'), aPid);
    assert.equal(
      (await control.info({ name: 'd' })).state,
      'STOPPED',
      'added programs are not started by default',
    );
    for (const name of ['b', 'c']) host.trackPid(await pidOf(name));

    // Removing a running program stops it first.
    const removed = await applySupervisorConfig(host.daemon, await host.renderIni([a, changedB, d]));
    assert.deepEqual(removed, {
      added: [],
      changed: [],
      removed: ['c'],
      started: [],
      daemonSettingsChanged: false,
    });
    assert.deepEqual((await control.status()).map((s) => s.name).sort(), ['a', 'b', 'd']);
    assert.equal(await pidOf('a'), aPid);
  });

  it('an autostart rewritten on disk since the daemon started restarts nothing, and stays as written', async (t) => {
    const host = await makeTestHost(t, 'autostart');
    const [a, b] = await simPrograms(join(host.root, 'deploy'), ['a', 'b'], freePort);
    assert.ok(a && b);
    await host.writeIni([a]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    const aPid = (await control.start(refOf(a))).pid;
    host.trackPid(aPid);
    // The desired state recorded for the next boot: the daemon itself still holds autostart=false.
    await host.writeIni([{ ...a, autostart: true }]);
    const wanted = await host.renderIni([{ ...a, autostart: true }, b]);
    const result = await applySupervisorConfig(host.daemon, wanted);
    assert.deepEqual(result.changed, [], 'a program differing only in autostart is not replaced');
    assert.deepEqual(result.added, ['b']);
    assert.equal((await control.info({ name: 'a' })).pid, aPid, 'a kept running');
    assert.equal(await readFile(host.daemon.iniPath, 'utf8'), wanted, 'the desired autostart stays on disk');
    assert.match(wanted, /\[program:a\][^[]*autostart=true/);
    assert.match(wanted, /\[program:b\][^[]*autostart=false/);
  });

  it('starts added programs when asked to', async (t) => {
    const host = await makeTestHost(t, 'addstart');
    const [a] = await simPrograms(join(host.root, 'deploy'), ['a'], freePort);
    assert.ok(a);
    await host.writeIni([]);
    await host.daemon.ensureRunning();
    const result = await applySupervisorConfig(host.daemon, await host.renderIni([a]), {
      shouldStart: () => true,
    });
    assert.deepEqual(result.started, ['a']);
    const info = await (await host.control()).info({ name: 'a' });
    host.trackPid(info.pid);
    assert.equal(info.state, 'RUNNING');
  });

  it('replaces a whole [group:] when one of its programs changes', async (t) => {
    const host = await makeTestHost(t, 'groups');
    const [a, b] = await simPrograms(join(host.root, 'deploy'), ['a', 'b'], freePort);
    assert.ok(a && b);
    const groups = [{ name: 'rs0', programs: ['a', 'b'] }];
    await host.writeIni([a, b], groups);
    await host.daemon.ensureRunning();
    const control = await host.control();
    const before = await Promise.all([a, b].map((p) => control.start(refOf(p, 'rs0'))));
    for (const info of before) host.trackPid(info.pid);
    const changedA = withQuiet(a);
    const result = await applySupervisorConfig(host.daemon, await host.renderIni([changedA, b], groups));
    assert.deepEqual(result.changed, ['rs0']);
    const after = await control.status();
    for (const info of after) host.trackPid(info.pid);
    // supervisord's unit of reload is the group: both members were restarted.
    assert.deepEqual(
      after.map((info) => [info.fullName, info.state]),
      [
        ['rs0:a', 'RUNNING'],
        ['rs0:b', 'RUNNING'],
      ],
    );
    for (const [index, info] of after.entries()) assert.notEqual(info.pid, before[index]?.pid);
  });

  it('refuses a file supervisord cannot read, keeping the running config and restoring the old file', async (t) => {
    const host = await makeTestHost(t, 'reject');
    const [a] = await simPrograms(join(host.root, 'deploy'), ['a'], freePort);
    assert.ok(a);
    const original = await host.writeIni([a]);
    await host.daemon.ensureRunning();
    const broken = `${await host.renderIni([a])}\n[program:bad]\ncommand=/bin/true\nautorestart=sometimes\n`;
    await assert.rejects(applySupervisorConfig(host.daemon, broken), (error: unknown) => {
      assert.ok(error instanceof SupervisorConfigRejectedError);
      assert.match(error.message, /invalid 'autorestart' value 'sometimes'/);
      return true;
    });
    assert.deepEqual(
      (await (await host.control()).status()).map((s) => s.name),
      ['a'],
    );
    assert.equal(await readFile(host.daemon.iniPath, 'utf8'), original, 'the previous file is restored');
  });

  it('refuses an order that does not list exactly the changed groups', async (t) => {
    const host = await makeTestHost(t, 'badorder');
    const [a] = await simPrograms(join(host.root, 'deploy'), ['a'], freePort);
    assert.ok(a);
    await host.writeIni([a]);
    await host.daemon.ensureRunning();
    const changed = withQuiet(a);
    await assert.rejects(
      applySupervisorConfig(host.daemon, await host.renderIni([changed]), { order: () => ['zzz'] }),
      /must list exactly the changed groups \(a\)/,
    );
  });

  it('touches no program for a daemon-only change and says a daemon restart is needed', async (t) => {
    const host = await makeTestHost(t, 'daemononly');
    const [a] = await simPrograms(join(host.root, 'deploy'), ['a'], freePort);
    assert.ok(a);
    const original = await host.writeIni([a]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    const started = await control.start(refOf(a));
    host.trackPid(started.pid);
    const changed = original.replace('loglevel=info', 'loglevel=debug');
    assert.notEqual(changed, original);
    const result = await applySupervisorConfig(host.daemon, changed);
    assert.deepEqual(result, {
      added: [],
      changed: [],
      removed: [],
      started: [],
      daemonSettingsChanged: true,
    });
    assert.equal((await control.info(refOf(a))).pid, started.pid);
    const comment = `; a comment only\n${changed}`;
    assert.equal((await applySupervisorConfig(host.daemon, comment)).daemonSettingsChanged, false);
  });
});
