// Program operations that need specific misbehaviour (a process that fails at startup, a missing binary),
// with the stand-in program under real supervisord.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ProgramError } from '../../src/supervisor/errors.js';
import { freePort, makeTestHost, refOf, standInProgram } from './harness.js';

describe('program start failures', () => {
  it('a process exiting during startup fails start with its own output and the MongoDB log', async (t) => {
    const host = await makeTestHost(t, 'badstart');
    const bad = standInProgram(host.root, 'mongod-bad', await freePort(), [
      '--fail',
      'Unrecognized option: storage.bogus',
    ]);
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

  it('start of a running program is success and keeps its pid', async (t) => {
    const host = await makeTestHost(t, 'twice');
    const program = standInProgram(host.root, 'mongod-1', await freePort());
    await host.writeIni([program], [{ name: 'rs0', programs: ['mongod-1'] }]);
    await host.daemon.ensureRunning();
    const control = await host.control();
    const first = await control.start(refOf(program, 'rs0'));
    assert.equal(first.fullName, 'rs0:mongod-1');
    const second = await control.start(refOf(program, 'rs0'));
    assert.equal(second.pid, first.pid);
  });
});
