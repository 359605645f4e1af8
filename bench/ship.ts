// Shipping an archive to 3 hosts: the SSH executor's `upload` (streamed on an exec channel into a temp file,
// hashed on the host as it arrives, installed by rename only when the sha256 matches) to all hosts at once, against OpenSSH's `scp` to the same hosts in parallel. Root only: the hosts
// are the test fleet's (network namespaces with Debian's sshd, test/fleet/). Each run starts from new
// connections (a new executor pool, a new scp process) and from no file on the hosts; the two sides
// alternate in the same loop. A third row adds what a careful scp user also does: `sha256sum` over ssh.
//   npx tsx bench/ship.ts [--size-mb 100] [--hosts 3] [--runs 5]
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFleet, destroyFleet, type Fleet, fleetSupported, runOnHost } from '../test/fleet/fleet.js';
import { tempDir } from '../test/helpers/cli.js';
import { controlMachine, fleetPool, sshTo } from '../test/hosts/ssh-helpers.js';
import { exec, isMain, median, progress, type Row, renderRows, runsText, timed } from './lib.js';

export async function benchShip(sizeMb: number, hostCount: number, runs: number): Promise<Row[]> {
  const supported = fleetSupported();
  if (!supported.ok) throw new Error(supported.reason);
  const fleet = await createFleet({ hosts: hostCount });
  try {
    const dir = await tempDir('mup-bench-ship-');
    const archive = join(dir, 'mongodb-linux-x86_64.tgz');
    await writeRandomFile(archive, sizeMb);
    const control = await controlMachine(fleet);
    const knownHosts = join(control.localHome, '.ssh', 'known_hosts');
    const clean = () => Promise.all(fleet.hosts.map((host) => runOnHost(host, 'rm -rf /srv/ship')));

    // As a deploy does: the archive's sha256 is known before the upload (kept beside the packed archive since it
    // was packed), and every host checks its copy against it.
    const sha256 = await sha256Of(archive);
    const mupUpload = async () => {
      const pool = fleetPool(fleet, control);
      try {
        const results = await Promise.all(
          fleet.hosts.map((host) =>
            sshTo(pool, fleet, host).upload(archive, '/srv/ship/archive.tgz', { sha256 }),
          ),
        );
        if (results.some((result) => result.skipped))
          throw new Error('an upload was skipped: the host was not clean');
      } finally {
        await pool.closeAll();
      }
    };
    const scp = () =>
      Promise.all(
        fleet.hosts.map((host) =>
          exec(
            'scp',
            [...sshArgs(fleet, knownHosts), '-q', archive, `${fleet.user}@${host.address}:/srv/ship/`],
            {
              timeoutMs: 600_000,
            },
          ),
        ),
      );
    const scpVerified = async () => {
      await scp();
      await Promise.all(
        fleet.hosts.map((host) =>
          exec(
            'ssh',
            [...sshArgs(fleet, knownHosts), `${fleet.user}@${host.address}`, 'sha256sum /srv/ship/*.tgz'],
            {
              timeoutMs: 600_000,
            },
          ),
        ),
      );
    };
    const prepareScp = () =>
      Promise.all(fleet.hosts.map((host) => runOnHost(host, `install -d -o ${fleet.uid} /srv/ship`)));

    const times = { mup: [] as number[], scp: [] as number[], scpVerified: [] as number[] };
    // One untimed round of each warms the page cache and the hosts' sshd.
    for (let run = 0; run <= runs; run++) {
      await clean();
      const mup = await timed(mupUpload);
      await clean();
      await prepareScp();
      const plain = await timed(scp);
      await clean();
      await prepareScp();
      const verified = await timed(scpVerified);
      if (run === 0) continue;
      times.mup.push(mup);
      times.scp.push(plain);
      times.scpVerified.push(verified);
      progress(
        `ship run ${run}/${runs}: mup ${mup.toFixed(2)} s, scp ${plain.toFixed(2)} s, scp+sha256sum ${verified.toFixed(2)} s`,
      );
    }
    await clean();
    const total = (sizeMb * hostCount) / median(times.mup);
    const note = `${runs} runs`;
    return [
      {
        bench: '7 ship',
        metric: `upload ${sizeMb} MiB to ${hostCount} hosts`,
        value: `${median(times.mup).toFixed(2)} s (${total.toFixed(0)} MiB/s total)`,
        baseline: `scp in parallel ${median(times.scp).toFixed(2)} s`,
        ratio: median(times.mup) / median(times.scp),
        target: '≤ 1.2×',
        note: `${note}; mup: ${runsText(times.mup)}; scp: ${runsText(times.scp)}`,
      },
      {
        bench: '7 ship',
        metric: `upload ${sizeMb} MiB to ${hostCount} hosts`,
        value: `${median(times.mup).toFixed(2)} s`,
        baseline: `scp + ssh sha256sum ${median(times.scpVerified).toFixed(2)} s`,
        ratio: median(times.mup) / median(times.scpVerified),
        note: `${note}; scp+sha256sum: ${runsText(times.scpVerified)}`,
      },
    ];
  } finally {
    await destroyFleet(fleet);
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sshArgs(fleet: Fleet, knownHosts: string): string[] {
  return ['-i', fleet.identityFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes'];
}

async function writeRandomFile(path: string, sizeMb: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let i = 0; i < sizeMb; i++) await file.write(randomBytes(1024 * 1024));
  } finally {
    await file.close();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '100' },
      hosts: { type: 'string', default: '3' },
      runs: { type: 'string', default: '5' },
    },
  });
  const rows = await benchShip(Number(values['size-mb']), Number(values.hosts), Number(values.runs));
  process.stdout.write(`${renderRows(rows)}\n`);
}
