// Benchmark 15 — a sharded cluster over 30 hosts (root only; the hosts are the test fleet's: network
// namespaces with Debian's sshd, test/fleet/). On one fleet of 30 hosts: the cluster of test/fleet/
// sharded-fleet.test.ts (a config server set of 3, 8 shards of 3, 3 mongos; one process per host) and a
// 3-member replica set on the first 3 hosts. `cluster display --json` of each, alternately (one untimed
// display of each first); `mup --version` in the same loop as the floor (starting Node and the CLI). The
// deploy, rolling restart and destroy of the 30-host cluster are timed once each, as the wall time of the
// operation an operator waits for.
// Targets (issue 17): display of the 30-host cluster ≤ 1.5 s median and ≤ 2× the 3-host one.
//   npx tsx bench/fleet30.ts [--runs 5]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFleet, destroyFleet, type Fleet, fleetSupported, runOnHost } from '../test/fleet/fleet.js';
import { fleetShardedTopology } from '../test/fleet/sharded-topology.js';
import {
  benchEnv,
  isMain,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  SIM_VERSION,
  secs,
  timed,
} from './lib.js';

const SHARDS = 8;
const HOSTS = 3 + SHARDS * 3 + 3;

export async function benchFleet30(runs: number): Promise<Row[]> {
  const supported = fleetSupported();
  if (!supported.ok) throw new Error(supported.reason);
  let fleet: Fleet | undefined;
  const env = await benchEnv('fleet30');
  try {
    const fleetTime = await timed(async () => {
      fleet = await createFleet({ hosts: HOSTS, namePrefix: 'f' });
    });
    const hosts = (fleet as Fleet).hosts;
    const uid = (fleet as Fleet).uid;
    const identityFile = (fleet as Fleet).identityFile;
    progress(`fleet30: ${HOSTS} hosts up in ${fleetTime.toFixed(1)} s`);
    await Promise.all(
      hosts.map((host) => runOnHost(host, `mkdir -p /srv/mongodb && chown ${uid} /srv/mongodb`)),
    );
    await mkdir(join(env.userHome, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(env.userHome, '.ssh', 'known_hosts'), (fleet as Fleet).knownHosts);
    const mup = (args: readonly string[], timeoutMs = 1_200_000) =>
      env.mup(['-i', identityFile, ...args], timeoutMs);
    const big = join(env.root, 'big.yaml');
    await writeFile(big, fleetShardedTopology(hosts, SHARDS, '/srv/mongodb/big'));
    const small = join(env.root, 'small.yaml');
    await writeFile(
      small,
      [
        'global:',
        '  user: deploy',
        '  deploy_dir: /srv/mongodb/small',
        'mongod_servers:',
        ...hosts
          .slice(0, 3)
          .flatMap((h) => [`  - host: ${h.address}`, '    port: 27018', '    replica_set: rs0']),
        '',
      ].join('\n'),
    );
    const deploy = (name: string, file: string) => {
      env.track(name);
      return timed(() =>
        mup([
          'cluster',
          'deploy',
          name,
          file,
          '--version',
          SIM_VERSION,
          '--binary-path',
          env.binDir,
          '--concurrency',
          String(SHARDS),
          '--yes',
        ]),
      );
    };
    const deployBig = await deploy('big', big);
    progress(`fleet30: deploy of ${HOSTS} processes on ${HOSTS} hosts ${deployBig.toFixed(1)} s`);
    const deploySmall = await deploy('small', small);
    progress(`fleet30: deploy of 3 processes on 3 hosts ${deploySmall.toFixed(1)} s`);

    const display = (name: string) => mup(['cluster', 'display', name, '--json']);
    await display('big');
    await display('small');
    const times = { big: [] as number[], small: [] as number[], version: [] as number[] };
    for (let run = 1; run <= runs; run++) {
      times.big.push(await timed(() => display('big')));
      times.small.push(await timed(() => display('small')));
      times.version.push(await timed(() => env.mup(['--version'])));
      progress(
        `fleet30 display run ${run}/${runs}: 30 hosts ${times.big.at(-1)?.toFixed(2)} s, 3 hosts ${times.small.at(-1)?.toFixed(2)} s`,
      );
    }
    const restart = await timed(() =>
      mup(['cluster', 'restart', 'big', '--concurrency', String(SHARDS), '--yes']),
    );
    progress(`fleet30: rolling restart of ${HOSTS} processes ${restart.toFixed(1)} s`);
    const destroy = await timed(() =>
      mup(['cluster', 'destroy', 'big', '--concurrency', String(SHARDS), '--yes']),
    );
    env.untrack('big');
    progress(`fleet30: destroy of ${HOSTS} processes ${destroy.toFixed(1)} s`);
    // Through the fleet's key (the cleanup's own destroy has none); a failure here is left to the fleet's
    // teardown, which ends every process of every host.
    await mup(['cluster', 'destroy', 'small', '--yes']);
    env.untrack('small');

    const [big30, small3, version] = [median(times.big), median(times.small), median(times.version)];
    const once = 'one run';
    return [
      {
        bench: '15 fleet30',
        metric: `display, ${HOSTS} hosts, ${HOSTS} processes`,
        value: secs(big30),
        baseline: `3 hosts, 3 processes ${secs(small3)}`,
        ratio: big30 / small3,
        target: '≤ 2×, ≤ 1.5 s',
        note: `${runs} runs; 30: ${runsText(times.big)}; 3: ${runsText(times.small)}`,
      },
      {
        bench: '15 fleet30',
        metric: 'mup --version (the floor)',
        value: secs(version),
        baseline: '',
        note: `runs: ${runsText(times.version)}`,
      },
      {
        bench: '15 fleet30',
        metric: `deploy, ${HOSTS} hosts`,
        value: secs(deployBig),
        baseline: `3 hosts ${secs(deploySmall)}`,
        ratio: deployBig / deploySmall,
        note: `${once}; --concurrency ${SHARDS}`,
      },
      {
        bench: '15 fleet30',
        metric: `rolling restart, ${HOSTS} hosts`,
        value: secs(restart),
        baseline: '',
        note: `${once}; --concurrency ${SHARDS}, 1 s quiesce`,
      },
      {
        bench: '15 fleet30',
        metric: `destroy, ${HOSTS} hosts`,
        value: secs(destroy),
        baseline: '',
        note: once,
      },
    ];
  } finally {
    await env.cleanup();
    if (fleet) await destroyFleet(fleet);
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  process.stdout.write(`${renderRows(await benchFleet30(Number(values.runs)))}\n`);
}
