// Replica-set fixture for the simulator tests: separate mongod processes on free loopback ports, each
// with its own dbPath in a temp dir, driven only through the real `mongodb` driver. Everything started
// here is killed in close().
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

export interface MemberSpec {
  readonly arbiterOnly?: boolean;
  readonly priority?: number;
  readonly hidden?: boolean;
  readonly votes?: number;
  readonly secondaryDelaySecs?: number;
  readonly slaveDelay?: number;
}

/** What the driver's SDAM currently believes, from its topologyDescriptionChanged events. */
export class TopologyWatch {
  topologyType = 'Unknown';
  /** "host:port" → server type (RSPrimary, RSSecondary, RSArbiter, RSGhost, ...). */
  servers = new Map<string, string>();

  attach(client: MongoClient): void {
    client.on('topologyDescriptionChanged', (ev) => {
      this.topologyType = ev.newDescription.type;
      this.servers = new Map([...ev.newDescription.servers].map(([addr, d]) => [addr, d.type]));
    });
  }

  types(): string[] {
    return [...this.servers.values()].sort();
  }
}

export class ReplSetFixture {
  readonly setName: string;
  readonly version: string;
  ports: number[] = [];
  procs: (SimProcess | undefined)[] = [];
  private root = '';
  private bin = '';
  private readonly clients: MongoClient[] = [];

  constructor(version = '7.0.14', setName = 'rs0') {
    this.version = version;
    this.setName = setName;
  }

  host(i: number): string {
    return `127.0.0.1:${this.ports[i]}`;
  }

  /** Extra command-line arguments of every member (e.g. enableTestCommands for failpoints). */
  memberArgs: string[] = [];

  /**
   * Members start with a 100 ms signaled-shutdown timeout (5.0+), as MongoDB's test harness does; tests
   * about the shutdown timeout itself turn this off.
   */
  quickShutdown = true;

  async start(n: number, memberArgs: string[] = []): Promise<void> {
    this.memberArgs = memberArgs;
    this.root = await tempDir('mup-sim-rs-');
    this.bin = await simBin(this.version, this.root);
    for (let i = 0; i < n; i++) this.ports.push(await freePort());
    await Promise.all(this.ports.map((_, i) => this.startMember(i)));
  }

  dbPath(i: number): string {
    return join(this.root, `m${i}`);
  }

  /** Starts member i on its port and dbPath; `standalone` leaves --replSet out (a node before conversion). */
  async startMember(
    i: number,
    extraArgs: string[] = [],
    standalone = false,
    version?: string,
  ): Promise<SimProcess> {
    await mkdir(this.dbPath(i), { recursive: true });
    const bin = version && version !== this.version ? await simBin(version, this.root) : this.bin;
    const port = this.ports[i] as number;
    const repl = standalone ? [] : ['--replSet', this.setName];
    const args = [
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
      '--dbpath',
      this.dbPath(i),
      ...(this.quickShutdown ? quickShutdownArgs(version ?? this.version) : []),
    ];
    const proc = await startSim(join(bin, 'mongod'), [...args, ...repl, ...this.memberArgs, ...extraArgs], {
      port,
    });
    this.procs[i] = proc;
    return proc;
  }

  /** Adds a mongod started without --replSet as member index `ports.length` (for standalone checks). */
  async startStandalone(): Promise<number> {
    const i = this.ports.length;
    this.ports.push(await freePort());
    await mkdir(this.dbPath(i), { recursive: true });
    const port = this.ports[i] as number;
    this.procs[i] = await startSim(
      join(this.bin, 'mongod'),
      ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', this.dbPath(i)],
      { port },
    );
    return i;
  }

  /** A direct connection to one member (as a cluster manager runs replSetInitiate). */
  async direct(i: number, watch?: TopologyWatch): Promise<MongoClient> {
    const c = new MongoClient(`mongodb://${this.host(i)}/?directConnection=true`, {
      serverSelectionTimeoutMS: 5000,
      connectTimeoutMS: 2000,
    });
    watch?.attach(c);
    await c.connect();
    this.clients.push(c);
    return c;
  }

  /** A replica-set connection through every member (SDAM discovers the topology). */
  async rsClient(extra = '', watch?: TopologyWatch): Promise<MongoClient> {
    const seeds = this.ports.map((_, i) => this.host(i)).join(',');
    const c = new MongoClient(`mongodb://${seeds}/?replicaSet=${this.setName}${extra}`, {
      serverSelectionTimeoutMS: 15_000,
      heartbeatFrequencyMS: 500,
    });
    watch?.attach(c);
    await c.connect();
    this.clients.push(c);
    return c;
  }

  async admin(i: number, cmd: Document): Promise<Document> {
    const c = await this.direct(i);
    try {
      return await c.db('admin').command(cmd);
    } finally {
      await c.close();
    }
  }

  /** hello from one member, or undefined when it does not answer. */
  async hello(i: number): Promise<Document | undefined> {
    try {
      return await this.admin(i, { hello: 1 });
    } catch {
      return undefined;
    }
  }

  /** Index of the member that reports itself writable primary, waiting up to timeoutMs. */
  async waitForPrimary(timeoutMs = 20_000, exclude: number[] = []): Promise<number> {
    let found = -1;
    await waitFor(
      async () => {
        for (let i = 0; i < this.ports.length; i++) {
          if (exclude.includes(i) || !this.procs[i]) continue;
          const h = await this.hello(i);
          if (h?.isWritablePrimary === true) {
            found = i;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      'a writable primary',
    );
    return found;
  }

  async waitForState(i: number, stateStr: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        try {
          const s = await this.admin(i, { replSetGetStatus: 1 });
          const me = (s.members as Document[]).find((m) => m.self === true);
          return me?.stateStr === stateStr;
        } catch {
          return false;
        }
      },
      timeoutMs,
      `member ${i} to be ${stateStr}`,
    );
  }

  config(members: MemberSpec[], settings: Document): Document {
    return {
      _id: this.setName,
      version: 1,
      members: members.map((m, i) => ({ _id: i, host: this.host(i), ...m })),
      settings,
    };
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.procs[i];
    if (!p) return;
    await p.stop(signal);
    this.procs[i] = undefined;
  }

  signal(i: number, signal: NodeJS.Signals): void {
    const p = this.procs[i];
    if (p) p.child.kill(signal);
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.close(true).catch(() => undefined);
    for (const p of this.procs) {
      if (!p) continue;
      // Through the ChildProcess, which sends nothing once the child has exited: its pid may by now be
      // another test's process.
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    if (this.root) await removeDir(this.root);
  }
}
