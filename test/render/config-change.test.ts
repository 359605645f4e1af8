// What a difference between two rendered config files needs: nothing, setParameter, or a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedSettings, classifyConfigChange } from '../../src/render/config-change.js';
import { parseMongoVersion } from '../../src/render/mongo-version.js';
import { isRuntimeSettable } from '../../src/render/runtime-parameters.js';

const v70 = parseMongoVersion('7.0.14');
const v44 = parseMongoVersion('4.4.29');
const base = 'net:\n  port: 27017\nsetParameter:\n  cursorTimeoutMillis: 600000\n';

describe('classifyConfigChange', () => {
  it('sees no change in equal texts, nor in a reordering', () => {
    assert.deepEqual(classifyConfigChange(base, base, 'mongod', v70), { kind: 'none' });
    const reordered = 'setParameter:\n  cursorTimeoutMillis: 600000\nnet:\n  port: 27017\n';
    assert.deepEqual(classifyConfigChange(base, reordered, 'mongod', v70), { kind: 'none' });
  });

  it('sets a changed or added runtime-settable parameter without a restart', () => {
    const after = 'net:\n  port: 27017\nsetParameter:\n  cursorTimeoutMillis: 1000\n  notablescan: true\n';
    assert.deepEqual(classifyConfigChange(base, after, 'mongod', v70), {
      kind: 'runtime',
      parameters: { cursorTimeoutMillis: 1000, notablescan: true },
    });
  });

  it('treats an object-valued parameter as one value', () => {
    const before = 'setParameter:\n  logComponentVerbosity:\n    verbosity: 0\n';
    const after = 'setParameter:\n  logComponentVerbosity:\n    verbosity: 1\n    query: { verbosity: 2 }\n';
    assert.deepEqual(classifyConfigChange(before, after, 'mongos', v70), {
      kind: 'runtime',
      parameters: { logComponentVerbosity: { verbosity: 1, query: { verbosity: 2 } } },
    });
  });

  it('restarts for a startup-only parameter, a removed parameter, or any other option', () => {
    const startupOnly = `${base}  replWriterThreadCount: 8\n`;
    assert.deepEqual(classifyConfigChange(base, startupOnly, 'mongod', v70), {
      kind: 'restart',
      changed: ['setParameter.replWriterThreadCount'],
    });
    assert.deepEqual(classifyConfigChange(base, 'net:\n  port: 27017\n', 'mongod', v70), {
      kind: 'restart',
      changed: ['setParameter.cursorTimeoutMillis'],
    });
    const option = `${base}storage:\n  syncPeriodSecs: 30\n`;
    assert.deepEqual(classifyConfigChange(base, option, 'mongod', v70), {
      kind: 'restart',
      changed: ['storage.syncPeriodSecs'],
    });
  });

  it('restarts when the parameter does not exist at runtime on that program or version', () => {
    // notablescan is a mongod parameter; the quiesce parameter came with 5.0.
    const mongos = `${base}  notablescan: true\n`;
    assert.equal(classifyConfigChange(base, mongos, 'mongos', v70).kind, 'restart');
    const quiesce = `${base}  shutdownTimeoutMillisForSignaledShutdown: 500\n`;
    assert.equal(classifyConfigChange(base, quiesce, 'mongod', v70).kind, 'runtime');
    assert.equal(classifyConfigChange(base, quiesce, 'mongod', v44).kind, 'restart');
  });

  it('lists every changed setting', () => {
    assert.deepEqual(changedSettings('a:\n  b: 1\n  c: 2\n', 'a:\n  b: 1\n  c: 3\nd: 4\n'), ['a.c', 'd']);
  });
});

describe('isRuntimeSettable', () => {
  it('knows runtime parameters by program and version', () => {
    assert.equal(isRuntimeSettable('logLevel', 'mongos', v44), true);
    assert.equal(isRuntimeSettable('mongosShutdownTimeoutMillisForSignaledShutdown', 'mongod', v70), false);
    assert.equal(isRuntimeSettable('enableTestCommands', 'mongod', v70), false);
    assert.equal(isRuntimeSettable('noSuchParameter', 'mongod', v70), false);
  });
});
