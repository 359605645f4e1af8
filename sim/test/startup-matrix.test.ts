// Every version family: each bad startup condition gives its real exit code and log line, in that
// version's log format (text up to 4.2, JSON from 4.4). Reference §5.2–§5.6, §6.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  killAll,
  removeDir,
  runToExit,
  simBin,
  startMongod,
  tempDir,
  VERSION_FAMILIES,
} from './helpers/sim.js';

const json = (version: string) => Number(version.split('.')[0]) * 100 + Number(version.split('.')[1]) >= 404;

describe('bad startup conditions per version family', () => {
  let root: string;
  const bins = new Map<string, string>();
  before(async () => {
    root = await tempDir();
    for (const v of VERSION_FAMILIES) bins.set(v, await simBin(v, root));
  });
  after(async () => {
    await killAll();
    await removeDir(root);
  });

  for (const [i, version] of VERSION_FAMILIES.entries()) {
    it(`${version}: exit 2 / 1 / 100 / 100 / 48 / 62 with the version's messages`, async () => {
      const mongod = join(bins.get(version) as string, 'mongod');
      const dir = join(root, version);
      const dbPath = join(dir, 'db');
      await mkdir(dbPath, { recursive: true });

      const badOption = await runToExit(mongod, ['--dbpath', dbPath, '--no-such-option']);
      assert.equal(badOption.code, 2);
      assert.match(
        badOption.stderr,
        /unrecognised option '--no-such-option'\ntry '.*mongod --help' for more information/,
      );

      const badParam = await runToExit(mongod, ['--dbpath', dbPath, '--setParameter', 'bogusKnob=1']);
      assert.equal(badParam.code, 1);
      assert.match(
        badParam.stdout,
        json(version)
          ? /"id":20574.*Unknown --setParameter 'bogusKnob'/
          : /Failed global initialization: BadValue: Unknown --setParameter 'bogusKnob'/,
      );

      const port = await freePort();
      const missing = await runToExit(mongod, ['--dbpath', join(dir, 'missing'), '--port', String(port)]);
      assert.equal(missing.code, 100);
      assert.match(
        missing.stdout,
        json(version)
          ? /"id":20557,\s*"ctx":"initandlisten","msg":"DBException in initAndListen, terminating","attr":\{"error":"NonExistentPath: Data directory /
          : /\[initandlisten\] exception in initAndListen: NonExistentPath: Data directory .*missing not found\., terminating/,
      );

      const running = await startMongod(bins.get(version) as string, dbPath);
      const locked = await runToExit(mongod, ['--dbpath', dbPath, '--port', String(port)]);
      assert.equal(locked.code, 100);
      assert.match(locked.stdout, /DBPathInUse: Unable to lock the lock file/);

      // The dbPath check comes before the bind: a missing dbPath on a busy port is still 100.
      const busy = await runToExit(mongod, ['--dbpath', join(dir, 'other'), '--port', String(running.port)]);
      assert.equal(busy.code, 100);
      await mkdir(join(dir, 'other'));
      const inUse = await runToExit(mongod, ['--dbpath', join(dir, 'other'), '--port', String(running.port)]);
      assert.equal(inUse.code, 48);
      assert.match(
        inUse.stdout,
        json(version)
          ? /"id":20568,.*"errmsg":"Address already in use"/
          : /listen\(\): bind\(\) failed errno:98 Address already in use/,
      );
      assert.equal((await running.stop()).code, 0);

      // Data stamped by the next family's binary is too new for this one: exit 62.
      const next = VERSION_FAMILIES[i + 1];
      if (next) {
        const newer = join(dir, 'newer');
        const n = await startMongod(bins.get(next) as string, newer);
        assert.equal((await n.stop()).code, 0);
        const refused = await runToExit(mongod, ['--dbpath', newer, '--port', String(port)]);
        assert.equal(refused.code, 62);
        assert.match(
          refused.stdout,
          json(version) ? /"id":20573,.*"msg":"Wrong mongod version"/ : /UPGRADE PROBLEM/,
        );
      }
    });
  }

  it('a port held by a program that is not a mongod also gives 48', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const mongod = join(bins.get('8.0.3') as string, 'mongod');
      const dbPath = join(root, 'blocked');
      await mkdir(dbPath);
      assert.equal((await runToExit(mongod, ['--dbpath', dbPath, '--port', String(port)])).code, 48);
    } finally {
      blocker.close();
    }
  });
});
