// Unit tests of the versioned server parameters (sim/src/parameters.ts): which program and version know
// the shutdown timeout parameters, and the value rules shared by startup and setParameter (§5.7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Double, Int32, Long } from 'bson';
import {
  normaliseVersionedParameter,
  ParameterValueError,
  signaledShutdownTimeoutMs,
  versionedParameterExists,
} from '../src/parameters.js';
import { parseVersion } from '../src/version.js';

const PARAM = 'shutdownTimeoutMillisForSignaledShutdown';
const MONGOS_PARAM = 'mongosShutdownTimeoutMillisForSignaledShutdown';

describe('versioned server parameters', () => {
  it('exist from 5.0, each on its own program', () => {
    const v44 = parseVersion('4.4.29');
    const v50 = parseVersion('5.0.28');
    const v80 = parseVersion('8.0.3');
    assert.equal(versionedParameterExists(PARAM, 'mongod', v44), false);
    assert.equal(versionedParameterExists(MONGOS_PARAM, 'mongos', v44), false);
    assert.equal(versionedParameterExists(PARAM, 'mongod', v50), true);
    assert.equal(versionedParameterExists(MONGOS_PARAM, 'mongos', v80), true);
    assert.equal(versionedParameterExists(PARAM, 'mongos', v80), false);
    assert.equal(versionedParameterExists(MONGOS_PARAM, 'mongod', v80), false);
  });

  it('take integers >= 0 from the command line and from BSON numbers', () => {
    assert.equal(normaliseVersionedParameter(PARAM, '200').value, 200);
    assert.equal(normaliseVersionedParameter(PARAM, 0).value, 0);
    assert.equal(normaliseVersionedParameter(PARAM, new Int32(7)).value, 7);
    assert.equal(normaliseVersionedParameter(PARAM, Long.fromNumber(300)).value, 300);
    assert.equal(normaliseVersionedParameter(PARAM, new Double(400)).value, 400);
    assert.throws(
      () => normaliseVersionedParameter(PARAM, '-1'),
      (e: unknown) => e instanceof ParameterValueError && e.code === 2 && e.codeName === 'BadValue',
    );
    assert.throws(
      () => normaliseVersionedParameter(PARAM, new Int32(-5)),
      /-5 is not greater than or equal to 0/,
    );
    assert.throws(() => normaliseVersionedParameter(PARAM, 'soon'), ParameterValueError);
    assert.throws(() => normaliseVersionedParameter(PARAM, 1.5), ParameterValueError);
    assert.throws(() => normaliseVersionedParameter(PARAM, true), ParameterValueError);
  });

  it('default to 15000 ms and follow the set value', () => {
    assert.equal(signaledShutdownTimeoutMs('mongod', new Map()), 15_000);
    assert.equal(signaledShutdownTimeoutMs('mongod', new Map([[PARAM, new Int32(100)]])), 100);
    assert.equal(signaledShutdownTimeoutMs('mongos', new Map([[PARAM, new Int32(100)]])), 15_000);
    assert.equal(signaledShutdownTimeoutMs('mongos', new Map([[MONGOS_PARAM, new Int32(0)]])), 0);
  });
});
