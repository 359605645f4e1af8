// Sharded-cluster fixture for the simulator tests: a config server replica set, shard replica sets and
// mongos, each a separate process on a free loopback port started through the install.ts wrappers,
// driven only through the real `mongodb` driver. close() kills every process by pid and removes the
// temp dirs. Needs `npm run build` first.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Document, MongoClient } from 'mongodb';
import {
  freePort,
  quickShutdownArgs,
  removeDir,
  type SimProcess,
  simBin,
  startSim,
  tempDir,
  waitFor,
} from '../helpers/sim.js';

export interface SetHandle {
  readonly name: string;
  readonly ports: number[];
  readonly procs: SimProcess[];
  /** The command line of each member, to restart it on the same port and dbPath. */
  readonly args: string[][];
  readonly env: Record<string, string>;
  /** "name/127.0.0.1:p1,127.0.0.1:p2" as addShard and configDB take it. */
  readonly connectionString: string;
}

export class ShardedClusterFixture {
  readonly version: string;
  root = '';
  bin = '';
  private readonly procs: SimProcess[] = [];
  private readonly clients: MongoClient[] = [];

  constructor(version = '7.0.14') {
    this.version = version;
  }

  async init(): Promise<void> {
    this.root = await tempDir('mup-sim-shard-');
    this.bin = await simBin(this.version, this.root);
  }

  track(p: SimProcess): SimProcess {
    this.procs.push(p);
    return p;
  }

  /** Starts `members` mongods of one replica set with extra args (e.g. --shardsvr) and initiates it. */
  async startSet(
    name: string,
    members: number,
    roleArgs: string[],
    env: Record<string, string> = {},
    initiate = true,
  ): Promise<SetHandle> {
    const ports: number[] = [];
    for (let i = 0; i < members; i++) ports.push(await freePort());
    const args = ports.map((port, i) => [
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
      '--dbpath',
      join(this.root, `${name}-${i}`),
      '--replSet',
      name,
      ...quickShutdownArgs(this.version),
      ...roleArgs,
    ]);
    const procs = await Promise.all(
      ports.map(async (port, i) => {
        await mkdir(join(this.root, `${name}-${i}`), { recursive: true });
        return this.track(await startSim(join(this.bin, 'mongod'), args[i] as string[], { port, env }));
      }),
    );
    const handle: SetHandle = {
      name,
      ports,
      procs,
      args,
      env,
      connectionString: `${name}/${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    };
    if (initiate) await this.initiate(handle, roleArgs.includes('--configsvr'));
    return handle;
  }

  /** Stops every member with SIGTERM (clean exit 0 expected) and starts it again on the same dbPath. */
  async restartSet(set: SetHandle): Promise<void> {
    for (const p of set.procs) {
      const exit = await p.stop('SIGTERM');
      if (exit.code !== 0) throw new Error(`${set.name} member exited ${String(exit.code)} on SIGTERM`);
    }
    const procs = await Promise.all(
      set.ports.map(async (port, i) =>
        this.track(await startSim(join(this.bin, 'mongod'), set.args[i] as string[], { port, env: set.env })),
      ),
    );
    set.procs.splice(0, set.procs.length, ...procs);
  }

  async waitForPrimary(set: SetHandle, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        for (const port of set.ports) {
          try {
            if ((await this.command(port, { hello: 1 })).isWritablePrimary === true) return true;
          } catch {
            // not up yet
          }
        }
        return false;
      },
      timeoutMs,
      `${set.name} to have a primary`,
    );
  }

  /**
   * Initiates with member 0 as the only electable member unless `allElectable` (then any member can
   * take over after a failure).
   */
  async initiate(set: SetHandle, configsvr: boolean, allElectable = false): Promise<void> {
    const config: Document = {
      _id: set.name,
      version: 1,
      members: set.ports.map((p, i) => ({
        _id: i,
        host: `127.0.0.1:${p}`,
        ...(i > 0 && !allElectable ? { priority: 0 } : {}),
      })),
      settings: { electionTimeoutMillis: 1000, heartbeatIntervalMillis: 200 },
    };
    if (configsvr) config.configsvr = true;
    await this.command(set.ports[0] as number, { replSetInitiate: config });
    await waitFor(
      async () => {
        try {
          const h = await this.command(set.ports[0] as number, { hello: 1 });
          return h.isWritablePrimary === true;
        } catch {
          return false;
        }
      },
      20_000,
      `${set.name} to elect a primary`,
    );
  }

  /** Starts mongos; resolves when it is listening (it waits for the config servers first). */
  async startMongos(configDB: string, port?: number, logFile?: string): Promise<SimProcess> {
    const p = port ?? (await freePort());
    const args = [
      '--port',
      String(p),
      '--bind_ip',
      '127.0.0.1',
      '--configdb',
      configDB,
      ...quickShutdownArgs(this.version, 'mongos'),
    ];
    if (logFile) args.push('--logpath', logFile);
    return this.track(
      await startSim(join(this.bin, 'mongos'), args, {
        port: p,
        timeoutMs: 30_000,
        ...(logFile ? { logFile } : {}),
      }),
    );
  }

  /** A client that stays open until close(). */
  async client(uri: string): Promise<MongoClient> {
    const c = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, heartbeatFrequencyMS: 500 });
    await c.connect();
    this.clients.push(c);
    return c;
  }

  direct(port: number): Promise<MongoClient> {
    return this.client(`mongodb://127.0.0.1:${port}/?directConnection=true`);
  }

  /** One admin command over a short-lived direct connection. */
  async command(port: number, cmd: Document): Promise<Document> {
    const c = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
    });
    try {
      await c.connect();
      return await c.db('admin').command(cmd);
    } finally {
      await c.close();
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.close(true).catch(() => undefined);
    // Through the ChildProcess, which sends nothing once the child has exited (its pid may be reused).
    for (const p of this.procs) p.child.kill('SIGKILL');
    if (this.root) await removeDir(this.root);
  }
}
