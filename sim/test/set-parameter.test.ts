// Runtime-settable vs startup-only server parameters (sim/src/parameter-table.ts): the setParameter
// command changes the runtime ones and answers 20 IllegalOperation "not allowed to change [x] at
// runtime" for the startup-only ones and for featureCompatibilityVersion; getParameter shows defaults;
// parameters that a program or release does not have are unrecognized (72).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient } from 'mongodb';
import { parameterFact } from '../src/parameter-table.js';
import { parseVersion } from '../src/version.js';
import { killAll, removeDir, simBin, startMongod, tempDir } from './helpers/sim.js';

function codeIs(code: number, message: string) {
  return (e: Document): boolean => {
    assert.equal(e.code, code, `code ${e.code}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  };
}

describe('parameter table', () => {
  it('knows where and since when each parameter exists', () => {
    const v44 = parseVersion('4.4.29');
    const v70 = parseVersion('7.0.14');
    assert.equal(parameterFact('logLevel', 'mongos', v70)?.setAt, 'startupAndRuntime');
    assert.equal(parameterFact('replWriterThreadCount', 'mongod', v70)?.setAt, 'startup');
    assert.equal(parameterFact('replWriterThreadCount', 'mongos', v70), undefined, 'mongod only');
    assert.equal(parameterFact('mongosShutdownTimeoutMillisForSignaledShutdown', 'mongod', v70), undefined);
    assert.equal(parameterFact('allowMultipleArbiters', 'mongod', v44), undefined, 'from 5.3');
    assert.equal(parameterFact('shutdownTimeoutMillisForSignaledShutdown', 'mongod', v44), undefined);
    assert.equal(parameterFact('noSuchParameter', 'mongod', v70), undefined);
  });
});

for (const version of ['7.0.14', '4.4.29']) {
  describe(`setParameter at runtime on ${version}`, { timeout: 60_000 }, () => {
    let root: string;
    let client: MongoClient;
    before(async () => {
      root = await tempDir();
      const bin = await simBin(version, root);
      const proc = await startMongod(bin, join(root, 'db'), ['--setParameter', 'replWriterThreadCount=8']);
      client = new MongoClient(`mongodb://127.0.0.1:${proc.port}/?directConnection=true`, {
        serverSelectionTimeoutMS: 5000,
      });
      await client.connect();
    });
    after(async () => {
      await client?.close();
      await killAll();
      await removeDir(root);
    });
    const admin = () => client.db('admin');

    it('changes runtime parameters and reports the previous value', async () => {
      assert.equal((await admin().command({ getParameter: 1, logLevel: 1 })).logLevel, 0);
      assert.equal((await admin().command({ setParameter: 1, logLevel: 2 })).was, 0);
      assert.equal((await admin().command({ getParameter: 1, logLevel: 1 })).logLevel, 2);
      const was = await admin().command({ setParameter: 1, diagnosticDataCollectionEnabled: false });
      assert.equal(was.was, true);
      await admin().command({ setParameter: 1, transactionLifetimeLimitSeconds: 30 });
      const got = await admin().command({ getParameter: 1, transactionLifetimeLimitSeconds: 1 });
      assert.equal(got.transactionLifetimeLimitSeconds, 30);
      if (version.startsWith('7.')) {
        await admin().command({ setParameter: 1, shutdownTimeoutMillisForSignaledShutdown: 500 });
      }
    });

    it('refuses startup-only parameters and featureCompatibilityVersion with 20 IllegalOperation', async () => {
      for (const name of ['replWriterThreadCount', 'enableTestCommands', 'periodicNoopIntervalSecs']) {
        await assert.rejects(
          admin().command({ setParameter: 1, [name]: 4 }),
          codeIs(20, `not allowed to change [${name}] at runtime`),
        );
      }
      await assert.rejects(
        admin().command({ setParameter: 1, featureCompatibilityVersion: '4.4' }),
        codeIs(20, 'not allowed to change [featureCompatibilityVersion] at runtime'),
      );
      // getParameter still shows a startup-only parameter, set or default.
      const got = await admin().command({
        getParameter: 1,
        replWriterThreadCount: 1,
        periodicNoopIntervalSecs: 1,
      });
      assert.equal(Number(got.replWriterThreadCount), 8);
      assert.equal(got.periodicNoopIntervalSecs, 10);
    });

    it('answers 72 for parameters this program or release does not have', async () => {
      await assert.rejects(
        admin().command({ setParameter: 1, noSuchParameter: 1 }),
        codeIs(
          72,
          'attempted to set unrecognized parameter [noSuchParameter], use help:true to see options ',
        ),
      );
      await assert.rejects(
        admin().command({ setParameter: 1, mongosShutdownTimeoutMillisForSignaledShutdown: 10 }),
        codeIs(
          72,
          'attempted to set unrecognized parameter [mongosShutdownTimeoutMillisForSignaledShutdown], use help:true to see options ',
        ),
      );
      if (version.startsWith('4.')) {
        await assert.rejects(
          admin().command({ setParameter: 1, allowMultipleArbiters: true }),
          codeIs(
            72,
            'attempted to set unrecognized parameter [allowMultipleArbiters], use help:true to see options ',
          ),
        );
      }
    });
  });
}
