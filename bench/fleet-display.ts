// `cluster display` over SSH as the fleet grows (root only; the hosts are the test fleet's, test/fleet/).
// For each host count N (default 3 and 9): N replica sets of 3 members, member m of set s on host
// (s + m) mod N, so every host runs 3 mongods whatever N is; `display --json` is timed on each. A local
// 3-member replica set is timed too (no SSH at all). With `--before <dist dir>` the same displays are also
// timed with another build of the CLI, alternately with this one, so a change is measured in one run.
//   npx tsx bench/fleet-display.ts [--hosts 3,9] [--runs 5] [--before /path/to/old/dist]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFleet, destroyFleet, type FleetHost, fleetSupported, runOnHost } from '../test/fleet/fleet.js';
import { mupBin } from '../test/helpers/cli.js';
import {
  benchEnv,
  exec,
  freePortRange,
  median,
  progress,
  type Row,
  renderRows,
  runsText,
  SIM_VERSION,
  timed,
} from './lib.js';

const MEMBERS = 3;

function fleetTopology(hosts: readonly FleetHost[], deployDir: string): string {
  const lines = ['global:', '  user: deploy', `  deploy_dir: ${deployDir}`, 'mongod_servers:'];
  for (let set = 0; set < hosts.length; set++)
    for (let member = 0; member < MEMBERS; member++) {
      const host = hosts[(set + member) % hosts.length] as FleetHost;
      lines.push(
        `  - host: ${host.address}`,
        `    port: ${20000 + set * MEMBERS + member}`,
        `    replica_set: rs${set}`,
      );
    }
  return `${lines.join('\n')}\n`;
}

function localTopology(port: number, deployDir: string): string {
  const lines = ['global:', `  deploy_dir: ${deployDir}`, 'mongod_servers:'];
  for (let member = 0; member < MEMBERS; member++)
    lines.push('  - host: 127.0.0.1', `    port: ${port + member}`, '    replica_set: rs0');
  return `${lines.join('\n')}\n`;
}

export async function benchFleetDisplay(hostCounts: number[], runs: number, before?: string): Promise<Row[]> {
  const supported = fleetSupported();
  if (!supported.ok) throw new Error(supported.reason);
  const fleet = await createFleet({ hosts: Math.max(...hostCounts), namePrefix: 'd' });
  const env = await benchEnv('fleet-display');
  try {
    await Promise.all(
      fleet.hosts.map((host) => runOnHost(host, `mkdir -p /srv/mongodb && chown ${fleet.uid} /srv/mongodb`)),
    );
    await mkdir(join(env.userHome, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(env.userHome, '.ssh', 'known_hosts'), fleet.knownHosts);
    const cli = (bin: string, args: readonly string[]) =>
      exec(process.execPath, [bin, '-i', fleet.identityFile, ...args], { env: env.env, timeoutMs: 300_000 });
    const builds =
      before === undefined
        ? [['this', mupBin]]
        : [
            ['this', mupBin],
            ['before', join(before, 'src', 'cli', 'main.js')],
          ];
    const deploy = async (name: string, file: string, remote: boolean) => {
      // Fleet clusters are destroyed here (the login needs -i), the local one by env.cleanup.
      if (!remote) env.track(name);
      const seconds = await timed(() =>
        env.mup(
          [
            '-i',
            fleet.identityFile,
            'cluster',
            'deploy',
            name,
            file,
            '--version',
            SIM_VERSION,
            '--binary-path',
            env.binDir,
            '--yes',
          ],
          900_000,
        ),
      );
      progress(`${name}: deployed in ${seconds.toFixed(1)} s`);
    };
    const measure = async (name: string) => {
      const times = new Map<string, number[]>(builds.map(([label]) => [label as string, []]));
      for (const [, bin] of builds) await cli(bin as string, ['cluster', 'display', name, '--json']);
      for (let i = 0; i < runs; i++)
        for (const [label, bin] of builds)
          times
            .get(label as string)
            ?.push(await timed(() => cli(bin as string, ['cluster', 'display', name, '--json'])));
      for (const [label, list] of times) progress(`${name} display (${label}): ${runsText(list)} s`);
      return times;
    };
    const results: { label: string; times: Map<string, number[]> }[] = [];
    const port = await freePortRange(21000, MEMBERS);
    const localFile = join(env.root, 'local.yaml');
    await writeFile(localFile, localTopology(port, join(env.root, 'local-deploy')));
    await deploy('disp-local', localFile, false);
    results.push({ label: 'local, 3 processes', times: await measure('disp-local') });
    for (const count of hostCounts) {
      const file = join(env.root, `fleet-${count}.yaml`);
      await writeFile(file, fleetTopology(fleet.hosts.slice(0, count), `/srv/mongodb/d${count}`));
      const name = `disp-h${count}`;
      try {
        await deploy(name, file, true);
        results.push({ label: `${count} hosts, ${count * MEMBERS} processes`, times: await measure(name) });
      } finally {
        await env.mup(['-i', fleet.identityFile, 'cluster', 'destroy', name, '--yes'], 600_000);
      }
    }
    const first = results[1];
    const rows: Row[] = [];
    for (const { label, times } of results) {
      const mine = median(times.get('this') ?? []);
      const old = times.get('before');
      rows.push({
        bench: '12 display',
        metric: `display, ${label}`,
        value: `${mine.toFixed(2)} s`,
        baseline: old
          ? `before ${median(old).toFixed(2)} s`
          : `3 hosts ${median(first?.times.get('this') ?? []).toFixed(2)} s`,
        ratio: old ? mine / median(old) : mine / median(first?.times.get('this') ?? []),
        note: `${runs} runs: ${runsText(times.get('this') ?? [])}${old ? `; before: ${runsText(old)}` : ''}`,
      });
    }
    return rows;
  } finally {
    try {
      await env.cleanup();
    } finally {
      await destroyFleet(fleet);
    }
  }
}

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '3,9' },
    runs: { type: 'string', default: '5' },
    before: { type: 'string' },
  },
});
const rows = await benchFleetDisplay(values.hosts.split(',').map(Number), Number(values.runs), values.before);
process.stdout.write(`${renderRows(rows)}\n`);
