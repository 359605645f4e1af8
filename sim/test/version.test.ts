// Per-version facts (reference §1.5 wire versions, §6 FCV table).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptedFcvs,
  hasHelloCommand,
  lastLtsSeries,
  maxWireVersion,
  parseVersion,
} from '../src/version.js';

describe('version facts', () => {
  it('maxWireVersion per series, including rapid releases', () => {
    const table: Record<string, number> = {
      '3.6.23': 6,
      '4.0.28': 7,
      '4.2.25': 8,
      '4.4.29': 9,
      '5.0.28': 13,
      '5.1.0': 14,
      '6.0.16': 17,
      '7.0.14': 21,
      '8.0.3': 25,
      '8.2.0': 27,
    };
    for (const [v, wire] of Object.entries(table)) assert.equal(maxWireVersion(parseVersion(v)), wire, v);
  });

  it('accepted on-disk FCVs follow the reference table', () => {
    const table: Record<string, string[]> = {
      '3.6.23': ['3.6', '3.4'],
      '4.0.28': ['4.0', '3.6'],
      '4.2.25': ['4.2', '4.0'],
      '4.4.29': ['4.4', '4.2'],
      '5.0.28': ['5.0', '4.4'],
      '6.0.16': ['6.0', '5.0', '5.3'],
      '7.0.14': ['7.0', '6.0', '6.3'],
      '8.0.3': ['8.0', '7.0', '7.3'],
      '6.1.0': ['6.1', '6.0'],
    };
    for (const [v, fcvs] of Object.entries(table)) assert.deepEqual(acceptedFcvs(parseVersion(v)), fcvs, v);
    assert.equal(lastLtsSeries(parseVersion('7.3.1')), '7.0');
  });

  it('knows which patches have the hello command', () => {
    for (const v of ['3.6.21', '4.0.21', '4.2.10', '4.4.2', '5.0.0', '8.0.3'])
      assert.equal(hasHelloCommand(parseVersion(v)), true, v);
    for (const v of ['3.6.20', '4.0.20', '4.2.9', '4.4.1'])
      assert.equal(hasHelloCommand(parseVersion(v)), false, v);
  });

  it('refuses malformed versions', () => {
    assert.throws(() => parseVersion('7.0'), /expected x\.y\.z/);
    assert.equal(parseVersion('8.0.0-rc1').series, '8.0');
  });
});
