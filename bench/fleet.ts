// Remote hosts over SSH (root only; the hosts are the test fleet's: network namespaces with Debian's sshd,
// test/fleet/). Two measurements:
// - deploy of the same 9 simulated mongods (3 replica sets of 3) onto 1, 3 and 9 hosts: per-host parallelism
//   should keep 9 hosts within 1.5× of one host. The three layouts alternate in the same loop; each deploy is
//   destroyed (untimed) before the next.
// - `cluster display --json` of the 3-host layout with one host's link cut, against the same display with all
//   hosts up (alternately); target ≤ 2×.
//   npx tsx bench/fleet.ts [--runs 2] [--display-runs 5] [--concurrency N]
// --concurrency: mup's global flag for the deploys (default: mup's own, 5 steps in flight).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createFleet,
  cutLink,
  destroyFleet,
  type Fleet,
  type FleetHost,
  fleetSupported,
  restoreLink,
  runOnHost,
} from '../test/fleet/fleet.js';
import {
  benchEnv,
  isMain,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  SIM_VERSION,
  timed,
} from './lib.js';

const SETS = 3;
const MEMBERS = 3;

/** 9 mongods: set s member m goes to host (s * MEMBERS + m) mod hosts; ports differ per member on a host. */
function topology(hosts: readonly FleetHost[], deployDir: string): string {
  const lines = ['global:', '  user: deploy', `  deploy_dir: ${deployDir}`, 'mongod_servers:'];
  for (let set = 0; set < SETS; set++)
    for (let member = 0; member < MEMBERS; member++) {
      const index = set * MEMBERS + member;
      const host = hosts[index % hosts.length] as FleetHost;
      lines.push(`  - host: ${host.address}`, `    port: ${27017 + index}`, `    replica_set: rs${set}`);
    }
  return `${lines.join('\n')}\n`;
}

export async function benchFleet(runs: number, displayRuns: number, concurrency?: number): Promise<Row[]> {
  const supported = fleetSupported();
  if (!supported.ok) throw new Error(supported.reason);
  const fleet: Fleet = await createFleet({ hosts: 9, namePrefix: 'b' });
  const env = await benchEnv('fleet');
  try {
    await Promise.all(
      fleet.hosts.map((host) => runOnHost(host, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`)),
    );
    await mkdir(join(env.userHome, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(env.userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
    const mup = (args: readonly string[], timeoutMs?: number) =>
      env.mup(['-i', fleet.identityFile, ...args], timeoutMs);
    const layouts = [1, 3, 9].map((count) => ({
      count,
      hosts: fleet.hosts.slice(0, count),
      file: join(env.root, `fleet-${count}.yaml`),
      times: [] as number[],
    }));
    for (const layout of layouts)
      await writeFile(layout.file, topology(layout.hosts, `/srv/mongodb/h${layout.count}`));

    const deploy = async (layout: (typeof layouts)[number]) => {
      const name = `bench-h${layout.count}`;
      env.track(name);
      const seconds = await timed(() =>
        mup(
          [
            ...(concurrency === undefined ? [] : ['--concurrency', String(concurrency)]),
            'cluster',
            'deploy',
            name,
            layout.file,
            '--version',
            SIM_VERSION,
            '--binary-path',
            env.binDir,
            '--yes',
          ],
          900_000,
        ),
      );
      return { name, seconds };
    };
    const destroy = async (name: string) => {
      await mup(['cluster', 'destroy', name, '--yes'], 600_000);
      env.untrack(name);
    };

    const display = { up: [] as number[], cut: [] as number[] };
    for (let run = 1; run <= runs; run++) {
      for (const layout of layouts) {
        const { name, seconds } = await deploy(layout);
        layout.times.push(seconds);
        progress(
          `fleet run ${run}/${runs}: deploy of 9 processes on ${layout.count} host(s) ${seconds.toFixed(2)} s`,
        );
        if (layout.count === 3 && run === 1) {
          // One untimed display first (the hosts' sshd and page cache warm).
          await mup(['cluster', 'display', name, '--json']);
          const cut = layout.hosts[2] as FleetHost;
          for (let i = 0; i < displayRuns; i++) {
            display.up.push(await timed(() => mup(['cluster', 'display', name, '--json'])));
            await cutLink(cut);
            try {
              display.cut.push(await timed(() => mup(['cluster', 'display', name, '--json'])));
            } finally {
              await restoreLink(cut);
            }
          }
          progress(
            `fleet display: all up ${runsText(display.up)} s, one host cut ${runsText(display.cut)} s`,
          );
        }
        await destroy(name);
      }
    }
    const [one, three, nine] = layouts.map((layout) => median(layout.times)) as [number, number, number];
    const note = `${runs} runs`;
    return [
      {
        bench: '10 fleet',
        metric: 'deploy 9 processes on 3 hosts',
        value: `${three.toFixed(2)} s`,
        baseline: `on 1 host ${one.toFixed(2)} s`,
        ratio: three / one,
        note: `${note}; 3 hosts: ${runsText(layouts[1]?.times ?? [])}; 1 host: ${runsText(layouts[0]?.times ?? [])}`,
      },
      {
        bench: '10 fleet',
        metric: 'deploy 9 processes on 9 hosts',
        value: `${nine.toFixed(2)} s`,
        baseline: `on 1 host ${one.toFixed(2)} s`,
        ratio: nine / one,
        target: '≤ 1.5×',
        note: `${note}; 9 hosts: ${runsText(layouts[2]?.times ?? [])}`,
      },
      {
        bench: '11 fleet',
        metric: 'display, 3 hosts, one cut off',
        value: `${median(display.cut).toFixed(2)} s`,
        baseline: `all up ${median(display.up).toFixed(2)} s`,
        ratio: median(display.cut) / median(display.up),
        target: '≤ 2×',
        note: `${displayRuns} runs; cut: ${runsText(display.cut)}; up: ${runsText(display.up)}`,
      },
    ];
  } finally {
    await env.cleanup();
    await destroyFleet(fleet);
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '2' },
      'display-runs': { type: 'string', default: '5' },
      concurrency: { type: 'string' },
    },
  });
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  const rows = await benchFleet(Number(values.runs), Number(values['display-runs']), concurrency);
  process.stdout.write(`${renderRows(rows)}\n`);
}
