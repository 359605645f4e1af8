// Simulated mongods laid out as deploy would: sim binaries in each instance's bin dir, a rendered mongod.conf,
// data and log dirs; plus the driver calls the tests make against them.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { simEntryPoint, writeSimBinaries } from '../../sim/src/install.js';
import { renderMongodConfig } from '../../src/render/mongod-config.js';
import { programForInstance, type SupervisorProgram } from '../../src/render/supervisor-ini.js';
import type { ResolvedInstance } from '../../src/topology/types.js';
import { instance } from '../render/supervisor-ini-fixtures.js';

export const SIM_VERSION = '7.0.14';

export interface SimMember {
  instance: ResolvedInstance;
  program: SupervisorProgram;
}

export async function assertSimulatorBuilt(): Promise<void> {
  await access(simEntryPoint).catch(() => {
    throw new Error(`${simEntryPoint} is missing: run \`npm run build\` first`);
  });
}

/** Members of one replica set (or standalones when `replicaSet` is undefined), each with startsecs=1. */
export async function simMembers(
  deployRoot: string,
  ports: readonly number[],
  replicaSet: string | undefined,
): Promise<SimMember[]> {
  await assertSimulatorBuilt();
  const members: SimMember[] = [];
  for (const port of ports) {
    const one = instance('mongod', port, deployRoot, replicaSet);
    await writeSimBinaries(one.binDir, SIM_VERSION);
    for (const dir of [one.configDir, one.logDir, one.dataDir ?? one.deployDir])
      await mkdir(dir, { recursive: true });
    const config = renderMongodConfig(one, {
      clusterName: 'test',
      version: SIM_VERSION,
      topologyKind: replicaSet === undefined ? 'standalone' : 'replset',
    });
    await writeFile(one.configFile, config);
    members.push({ instance: one, program: programForInstance(one, 1) });
  }
  return members;
}

async function withClient<T>(port: number, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 5000,
  });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function hello(port: number): Promise<Record<string, unknown>> {
  return withClient(port, (client) => client.db('admin').command({ hello: 1 }));
}

/** The `shutdown` command: the server exits 0; the driver sees the connection close. */
export async function shutdownServer(port: number): Promise<void> {
  await withClient(port, async (client) => {
    await client
      .db('admin')
      .command({ shutdown: 1, force: true })
      .catch(() => undefined);
  });
}

/** Standalone simulated mongods as supervisor programs with the given names, on free ports. */
export async function simPrograms(
  deployRoot: string,
  names: readonly string[],
  freePort: () => Promise<number>,
): Promise<SupervisorProgram[]> {
  const ports: number[] = [];
  for (const _ of names) ports.push(await freePort());
  const members = await simMembers(deployRoot, ports, undefined);
  return members.map((member, index) => ({ ...member.program, name: names[index] ?? member.program.name }));
}

/** The same program with one more (harmless) server option: a changed command for supervisord. */
export function withQuiet(program: SupervisorProgram): SupervisorProgram {
  return { ...program, command: [...program.command, '--quiet'] };
}
