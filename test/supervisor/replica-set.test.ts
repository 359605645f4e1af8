// A 3-member replica set of simulated mongods under one real supervisord, driven the way mup drives it:
// start, status, single-program operations that leave the others alone, crash recovery, clean shutdown,
// a config change applied to one program, and orphans after the daemon is SIGKILLed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applySupervisorConfig } from '../../src/supervisor/apply.js';
import { orphanProbeFor, programRefFor } from '../../src/supervisor/instance-refs.js';
import { stopOrphan } from '../../src/supervisor/orphans.js';
import type { ProgramControl, ProgramRef } from '../../src/supervisor/programs.js';
import { freePort, makeTestHost, type TestHost, waitFor } from './harness.js';
import { hello, type SimMember, shutdownServer, simMembers } from './sim-members.js';

/** RUNNING means alive for startsecs, not listening yet: a loaded host may take longer to bind. */
async function assertAnswers(port: number): Promise<void> {
  const reply = await waitFor('hello', () => hello(port).catch(() => undefined), 30_000);
  assert.equal(reply.ok, 1);
}

describe('replica set of simulated mongods under supervisord', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  let host: TestHost;
  let members: SimMember[];
  let control: ProgramControl;
  const ref = (member: SimMember): ProgramRef => programRefFor(member.instance, { startsecs: 1 });
  const pidsByName = async (): Promise<Map<string, number>> =>
    new Map((await control.status()).map((status) => [status.name, status.pid]));
  const byIndex = (index: number): SimMember => {
    const member = members[index];
    assert.ok(member !== undefined);
    return member;
  };

  before(async () => {
    host = await makeTestHost({ after: (fn) => cleanups.push(fn) }, 'rs');
    const ports = [await freePort(), await freePort(), await freePort()];
    members = await simMembers(join(host.root, 'deploy'), ports, 'rs0');
    await host.writeIni(members.map((member) => member.program));
    const ensured = await host.daemon.ensureRunning();
    assert.equal(ensured.started, true);
    control = await host.control();
  });

  it('starts every member to RUNNING, and each answers hello', async () => {
    const infos = await Promise.all(members.map((member) => control.start(ref(member))));
    for (const info of infos) {
      assert.equal(info.state, 'RUNNING');
      host.trackPid(info.pid);
    }
    // RUNNING means up for startsecs, not listening yet: on a loaded machine the port may open later.
    for (const member of members) {
      const reply = await waitFor('hello', () => hello(member.instance.port).catch(() => undefined));
      assert.equal(reply.ok, 1);
    }
  });

  it('reports each program with state, pid and uptime', async () => {
    const statuses = await control.status();
    assert.deepEqual(
      statuses.map((status) => status.name).sort(),
      members.map((member) => member.program.name).sort(),
    );
    for (const status of statuses) {
      assert.equal(status.state, 'RUNNING');
      assert.ok(status.pid > 0);
      assert.equal(await host.executor.isPidAlive(status.pid), true);
      assert.ok(status.uptimeSeconds >= 0);
      assert.equal(status.restarts, 0);
      assert.equal(status.exitStatus, 0);
    }
  });

  it('stop, start and restart of one program leave the others untouched', async () => {
    const target = byIndex(0);
    const before = await pidsByName();
    const others = () => [...before].filter(([name]) => name !== target.program.name);

    const stopped = await control.stop(ref(target));
    assert.equal(stopped.state, 'STOPPED');
    await assert.rejects(hello(target.instance.port));
    const afterStop = await pidsByName();
    for (const [name, pid] of others()) assert.equal(afterStop.get(name), pid, `${name} kept its pid`);

    const started = await control.start(ref(target));
    assert.equal(started.state, 'RUNNING');
    host.trackPid(started.pid);
    await assertAnswers(target.instance.port);

    const restarted = await control.restart(ref(target));
    host.trackPid(restarted.pid);
    assert.notEqual(restarted.pid, started.pid);
    await assertAnswers(target.instance.port);
    const afterAll = await pidsByName();
    for (const [name, pid] of others()) assert.equal(afterAll.get(name), pid, `${name} kept its pid`);
  });

  it('a SIGKILLed mongod is restarted by supervisord and status shows the restart', async () => {
    const target = byIndex(1);
    const old = await control.info(ref(target));
    process.kill(old.pid, 'SIGKILL');
    const respawned = await waitFor('respawn', async () => {
      const info = await control.info(ref(target));
      return info.state === 'RUNNING' && info.pid !== old.pid ? info : undefined;
    });
    host.trackPid(respawned.pid);
    await assertAnswers(target.instance.port);
    const status = (await control.status()).find((one) => one.name === target.program.name);
    assert.equal(status?.restarts, 1);
  });

  it('a clean shutdown command leaves the mongod down: EXITED with exit status 0', async () => {
    const target = byIndex(2);
    await shutdownServer(target.instance.port);
    const exited = await waitFor('exit', async () => {
      const info = await control.info(ref(target));
      return info.state === 'EXITED' ? info : undefined;
    });
    assert.equal(exited.exitStatus, 0);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const later = await control.info(ref(target));
    assert.equal(later.state, 'EXITED');
    assert.equal(later.pid, 0);
    await control.start(ref(target)).then((info) => host.trackPid(info.pid));
  });

  it('changing one program command and applying restarts only that program', async () => {
    const target = byIndex(0);
    const before = await pidsByName();
    const changed = members.map((member) =>
      member === target
        ? { ...member.program, command: [...member.program.command, '--quiet'] }
        : member.program,
    );
    const result = await applySupervisorConfig(host.daemon, await host.renderIni(changed));
    assert.deepEqual(result, {
      added: [],
      changed: [target.program.name],
      removed: [],
      started: [target.program.name],
      daemonSettingsChanged: false,
    });
    const afterApply = await control.status();
    for (const status of afterApply) {
      assert.equal(status.state, 'RUNNING', status.name);
      host.trackPid(status.pid);
      if (status.name === target.program.name) assert.notEqual(status.pid, before.get(status.name));
      else assert.equal(status.pid, before.get(status.name), `${status.name} kept its pid`);
    }
    const targetPid = afterApply.find((status) => status.name === target.program.name)?.pid ?? 0;
    const args = await host.executor.run('ps', ['-o', 'args=', '-p', String(targetPid)]);
    assert.match(args.stdout, /--quiet/);
    const again = await applySupervisorConfig(host.daemon, await host.renderIni(changed));
    assert.deepEqual(again, {
      added: [],
      changed: [],
      removed: [],
      started: [],
      daemonSettingsChanged: false,
    });
  });

  it('after supervisord is SIGKILLed, ensure-running reports the orphans; once stopped all start cleanly', async () => {
    const before = await pidsByName();
    const daemonPid = await host.daemon.pid();
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('daemon gone', async () =>
      (await host.executor.isPidAlive(daemonPid)) ? undefined : true,
    );
    for (const pid of before.values())
      assert.equal(await host.executor.isPidAlive(pid), true, 'orphans survive');

    const probes = members.map((member) => orphanProbeFor(member.instance));
    const ensured = await host.daemon.ensureRunning(probes);
    assert.equal(ensured.started, true);
    assert.notEqual(ensured.pid, daemonPid);
    const orphans = [...ensured.orphans].sort((a, b) => a.program.localeCompare(b.program));
    assert.deepEqual(
      orphans.map((orphan) => ({ program: orphan.program, port: orphan.port, pid: orphan.pid })),
      members
        .map((member) => ({
          program: member.program.name,
          port: member.instance.port,
          pid: before.get(member.program.name),
        }))
        .sort((a, b) => a.program.localeCompare(b.program)),
    );
    for (const orphan of orphans) {
      assert.deepEqual(orphan.foundBy, ['port', 'lock']);
      assert.match(orphan.command ?? '', /node/);
    }
    for (const status of await control.status()) assert.equal(status.state, 'STOPPED');
    const first = byIndex(0);
    await assert.rejects(
      control.start(ref(first)),
      new RegExp(`port ${first.instance.port} is in use by pid ${before.get(first.program.name)} `),
    );

    for (const orphan of orphans)
      assert.equal(await stopOrphan(host.executor, orphan.pid, { timeoutMs: 20_000 }), true);
    assert.deepEqual((await host.daemon.ensureRunning(probes)).orphans, []);
    const restarted = await Promise.all(members.map((member) => control.start(ref(member))));
    for (const info of restarted) {
      assert.equal(info.state, 'RUNNING');
      host.trackPid(info.pid);
    }
    for (const member of members) await assertAnswers(member.instance.port);
  });
});
