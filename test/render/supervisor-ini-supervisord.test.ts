// The rendered supervisor.ini is accepted by real supervisord: the daemon starts, listens on loopback, and
// supervisorctl (using only the [supervisorctl] section) lists every program as STOPPED.
import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../sim/test/helpers/ports.js';
import { LocalExecutor } from '../../src/hosts/local.js';
import {
  renderSupervisorIni,
  supervisorIniPath,
  supervisorIniSpecForHost,
} from '../../src/render/supervisor-ini.js';
import { tempDir } from '../helpers/cli.js';
import { shardedInstances } from './supervisor-ini-fixtures.js';

const executor = new LocalExecutor();

describe('rendered supervisor.ini under real supervisord', () => {
  // Every daemon a test started, stopped here even when that test failed midway.
  const started: { iniPath: string; pid: number }[] = [];

  after(async () => {
    for (const daemon of started) {
      await executor
        .run('supervisorctl', ['-c', daemon.iniPath, 'shutdown'], { timeoutMs: 10_000 })
        .catch(() => undefined);
      for (let i = 0; i < 100 && daemon.pid > 0 && (await executor.isPidAlive(daemon.pid)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (daemon.pid > 0 && (await executor.isPidAlive(daemon.pid))) process.kill(daemon.pid, 'SIGKILL');
    }
  });

  for (const groupBy of ['none', 'replicaSet'] as const) {
    it(`starts and lists every program as STOPPED (groups: ${groupBy})`, async () => {
      const root = await tempDir('mup-ini-');
      const instances = shardedInstances(join(root, 'deploy'));
      for (const one of instances) await mkdir(one.logDir, { recursive: true });
      const supervisorDir = join(root, 'deploy', 'supervisor');
      const port = await freePort();
      const spec = supervisorIniSpecForHost({
        cluster: 'accept',
        supervisorDir,
        httpPort: port,
        username: 'mup',
        password: 'pa%ss',
        minfds: 1024,
        startsecs: 1,
        groupBy,
        instances,
      });
      const iniPath = supervisorIniPath(supervisorDir);
      await executor.writeFile(iniPath, renderSupervisorIni(spec), 0o600);
      assert.equal((await stat(iniPath)).mode & 0o777, 0o600);

      const daemon = { iniPath, pid: 0 };
      started.push(daemon);
      const run = await executor.run('supervisord', ['-c', iniPath], { timeoutMs: 20_000 });
      assert.equal(run.exitCode, 0, run.stderr);
      const pid = await executor.run('supervisorctl', ['-c', iniPath, 'pid'], { timeoutMs: 10_000 });
      const daemonPid = Number(pid.stdout.trim());
      daemon.pid = daemonPid;
      assert.ok(daemonPid > 0, pid.stdout);

      const status = await executor.run('supervisorctl', ['-c', iniPath, 'status'], { timeoutMs: 10_000 });
      // supervisorctl exits 3 when some program is not running.
      assert.equal(status.exitCode, 3, status.stdout + status.stderr);
      const lines = status.stdout.trim().split('\n');
      const expected = instances.map((one) => {
        const group =
          groupBy === 'none' ? undefined : spec.groups.find((g) => g.programs.includes(one.programName));
        return group === undefined ? one.programName : `${group.name}:${one.programName}`;
      });
      assert.deepEqual(lines.map((line) => line.split(/\s+/)[0]).sort(), [...expected].sort());
      for (const line of lines) assert.match(line, /\sSTOPPED\s/);

      const shutdown = await executor.run('supervisorctl', ['-c', iniPath, 'shutdown'], {
        timeoutMs: 10_000,
      });
      assert.equal(shutdown.exitCode, 0, shutdown.stdout + shutdown.stderr);
      for (let i = 0; i < 100 && (await executor.isPidAlive(daemonPid)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(await executor.isPidAlive(daemonPid), false);
    });
  }
});
