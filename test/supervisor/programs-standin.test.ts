// Program operations that need specific misbehaviour (a process that fails at startup, a missing binary),
// with the stand-in program under real supervisord.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ProgramError } from '../../src/supervisor/errors.js';
import { freePort, makeTestHost, refOf, standIn, standInProgram, waitFor } from './harness.js';

describe('program start failures', () => {
  it('a process exiting during startup fails start with its own output and the MongoDB log', async (t) => {
    const host = await makeTestHost(t, 'badstart');
    // startsecs well above a loaded machine's node start-up: the exit must come inside it to count as a
    // failed start (after it, supervisord would already have called the process RUNNING).
    const bad = {
      ...standInProgram(host.root, 'mongod-bad', await freePort(), [
        '--fail',
        'Unrecognized option: storage.bogus',
      ]),
      startsecs: 15,
    };
    await host.writeIni([bad]);
    await host.daemon.ensureRunning();
    const logFile = join(host.root, 'mongod.log');
    await writeFile(logFile, '{"msg":"earlier line"}\n{"msg":"Fatal assertion 12345"}\n');
    const control = await host.control();
    await assert.rejects(control.start({ ...refOf(bad), logFile }), (error: unknown) => {
      assert.ok(error instanceof ProgramError, String(error));
      assert.equal(error.failure, 'exited-during-startup');
      assert.match(error.outputTail, /Unrecognized option: storage\.bogus/);
      assert.match(error.message, /Unrecognized option: storage\.bogus/);
      assert.match(error.message, /Fatal assertion 12345/);
      return true;
    });
  });

  it('a missing binary fails start naming the command', async (t) => {
    const host = await makeTestHost(t, 'nobin');
    const program = {
      ...standInProgram(host.root, 'mongod-nobin', await freePort()),
      command: [join(host.root, 'bin', 'mongod'), '--config', '/x.conf'],
    };
    await host.writeIni([program]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    await assert.rejects(control.start(refOf(program)), (error: unknown) => {
      assert.ok(error instanceof ProgramError, String(error));
      assert.equal(error.failure, 'no-such-binary');
      assert.match(error.message, new RegExp(`can't find command '${join(host.root, 'bin', 'mongod')}'`));
      return true;
    });
  });

  it('a binary that is not executable fails start as such', async (t) => {
    const host = await makeTestHost(t, 'noexec');
    const binary = join(host.root, 'mongod');
    await writeFile(binary, '#!/bin/sh\n', { mode: 0o644 });
    const program = { ...standInProgram(host.root, 'mongod-noexec', await freePort()), command: [binary] };
    await host.writeIni([program]);
    await host.daemon.ensureRunning();
    await assert.rejects((await host.control()).start(refOf(program)), /not executable/);
  });

  it('an unknown program is a typed error; stopping a stopped program succeeds', async (t) => {
    const host = await makeTestHost(t, 'unknown');
    const program = standInProgram(host.root, 'mongod-1', await freePort());
    await host.writeIni([program]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    await assert.rejects(control.start({ name: 'mongod-404' }), (error: unknown) => {
      assert.ok(error instanceof ProgramError);
      assert.equal(error.failure, 'unknown-program');
      return true;
    });
    const stopped = await control.stop(refOf(program));
    assert.equal(stopped.state, 'STOPPED');
  });

  it('start of a running program is success and keeps its pid; grouped programs are found by name', async (t) => {
    const host = await makeTestHost(t, 'twice');
    const program = standInProgram(host.root, 'mongod-1', await freePort());
    await host.writeIni([program], [{ name: 'rs0', programs: ['mongod-1'] }]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    const first = await control.start(refOf(program, 'rs0'));
    assert.equal(first.fullName, 'rs0:mongod-1');
    const second = await control.start(refOf(program, 'rs0'));
    assert.equal(second.pid, first.pid);
    // Without the group the daemon is asked which group holds the program.
    assert.equal((await control.info({ name: 'mongod-1' })).fullName, 'rs0:mongod-1');
    assert.equal((await control.stop({ name: 'mongod-1' })).state, 'STOPPED');
  });

  it('refuses to start a program whose port and dbPath are held by a process supervisord does not run', async (t) => {
    const host = await makeTestHost(t, 'held');
    const port = await freePort();
    const program = standInProgram(host.root, 'mongod-held', port);
    await host.writeIni([program]);
    await host.daemon.ensureRunning();
    const dataDir = join(host.root, 'mongod-held', 'data');
    const squatter = spawn(process.execPath, [standIn, '--port', String(port), '--dbpath', dataDir], {
      stdio: 'ignore',
    });
    const squatterPid = squatter.pid;
    assert.ok(squatterPid !== undefined);
    host.trackPid(squatterPid);
    await waitFor('squatter listening', async () =>
      (await host.executor.isPortFree(port)) ? undefined : true,
    );
    const control = await host.control();
    const ref = { ...refOf(program), port, dataDir };
    await assert.rejects(control.start(ref), (error: unknown) => {
      assert.ok(error instanceof ProgramError, String(error));
      assert.equal(error.failure, 'held-by-another-process');
      assert.match(error.message, new RegExp(`port ${port} is in use by pid ${squatterPid} \\(.*stand-in`));
      return true;
    });
    assert.equal((await control.info(ref)).state, 'STOPPED', 'nothing was spawned');
    squatter.kill('SIGTERM');
    await waitFor('squatter gone', async () => ((await host.executor.isPortFree(port)) ? true : undefined));
    const info = await control.start(ref);
    host.trackPid(info.pid);
    assert.equal(info.state, 'RUNNING');
  });
});
