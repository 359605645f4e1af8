import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { isAtLeast, parseMongoVersion, UnsupportedVersionError } from '../../src/render/mongo-version.js';

describe('parseMongoVersion', () => {
  it('maps every version to its family, rapid releases to the x.0 before them', () => {
    const cases: Array<[string, string]> = [
      ['3.6.23', '3.6'],
      ['4.0.28', '4.0'],
      ['4.1.13', '4.0'],
      ['4.2.25', '4.2'],
      ['4.4.29', '4.4'],
      ['4.9.0', '4.4'],
      ['5.0.31', '5.0'],
      ['5.3.2', '5.0'],
      ['6.0.20', '6.0'],
      ['6.1.0', '6.0'],
      ['7.0.14', '7.0'],
      ['7.3.4', '7.0'],
      ['8.0.4', '8.0'],
      ['8.2.1', '8.0'],
    ];
    for (const [version, family] of cases) assert.equal(parseMongoVersion(version).family, family, version);
  });

  it('reads Percona builds, release candidates and major.minor by their numbers', () => {
    assert.deepEqual(parseMongoVersion('7.0.14-8'), { raw: '7.0.14-8', core: '7.0.14', family: '7.0' });
    assert.equal(parseMongoVersion('8.0.0-rc3').core, '8.0.0');
    assert.equal(parseMongoVersion('6.0').core, '6.0.0');
  });

  it('compares on the numbers only', () => {
    assert.equal(isAtLeast(parseMongoVersion('6.1.0-rc0'), '6.1.0'), true);
    assert.equal(isAtLeast(parseMongoVersion('6.0.19-16'), '6.1.0'), false);
  });

  it('refuses unsupported or malformed versions with a usage error', () => {
    for (const version of ['3.4.24', '2.6.12', '9.0.0', 'v7.0.14', '7', '', 'latest']) {
      assert.throws(
        () => parseMongoVersion(version),
        (error: unknown) => error instanceof UnsupportedVersionError && error.exitCode === ExitCode.usage,
        version,
      );
    }
  });
});
