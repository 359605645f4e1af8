// One simulated server process: its version, options, log, storage, replication role, command
// registry and topology version. Every command handler reaches the server through this object.

import { hostname } from 'node:os';
import type { Document } from 'bson';
import { AccessControl } from './auth/access.js';
import { OperationTable } from './commands/operations.js';
import { CommandRegistry } from './commands/registry.js';
import { CursorManager } from './cursors.js';
import { CommandError, ErrorCode } from './errors.js';
import type { Logger } from './log.js';
import { ServerCounters } from './metrics.js';
import type { ServerOptions } from './options.js';
import { isVersionedParameter, normaliseVersionedParameter } from './parameters.js';
import type { CommitResult, ReplicationRole, WriteConcern } from './replication.js';
import { StandaloneRole } from './replication.js';
import type { Storage, StorageOp } from './storage/store.js';
import { TopologyVersion } from './topology.js';
import type { Program, VersionInfo } from './version.js';
import type { TlsMaterial } from './wire/tls.js';

export interface ConnectionCounters {
  current: number;
  totalCreated: number;
}

export interface NodeInit {
  readonly version: VersionInfo;
  readonly program: Program;
  readonly options: ServerOptions;
  readonly log: Logger;
  readonly storage?: Storage;
  /** The binary as invoked (getCmdLineOpts argv[0]); defaults to the program name. */
  readonly argv0?: string;
  /** security.keyFile contents (whitespace removed), already validated at startup. */
  readonly clusterKey?: string;
  /** Certificates when net.tls / net.ssl is on, read at startup. */
  readonly tls?: TlsMaterial;
}

/** What a failpoint does when it fires (configureFailPoint, enableTestCommands only). */
export interface FailPointState {
  mode: 'alwaysOn' | 'off' | { times: number } | { skip: number };
  data: Document;
}

export class SimNode {
  readonly version: VersionInfo;
  readonly program: Program;
  readonly options: ServerOptions;
  readonly log: Logger;
  readonly storage: Storage | undefined;
  readonly argv0: string;
  readonly clusterKey: string | undefined;
  readonly tls: TlsMaterial | undefined;
  readonly commands = new CommandRegistry();
  readonly cursors = new CursorManager();
  /** Operations in progress (currentOp, killOp) and time per namespace (top). */
  readonly operations = new OperationTable();
  readonly topology = new TopologyVersion();
  readonly startedAt = Date.now();
  readonly connections: ConnectionCounters = { current: 0, totalCreated: 0 };
  readonly failPoints = new Map<string, FailPointState>();
  readonly opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  readonly network = { bytesIn: 0, bytesOut: 0, numRequests: 0 };
  /** serverStatus counters (asserts, opcountersRepl, metrics, electionMetrics). */
  readonly counters = new ServerCounters();
  /** Runtime-settable server parameters (setParameter), seeded from the command line / config. */
  readonly parameters = new Map<string, unknown>();
  /** Users, roles and the access check (enforced with security.authorization / keyFile). */
  readonly access: AccessControl;
  role: ReplicationRole;
  /** Set once the shutdown tears the server down (after quiesce): new connections are refused. */
  shuttingDown = false;
  /**
   * End of quiesce mode (5.0+, §5.7), or undefined when not quiescing. While quiescing the server still
   * serves every operation, but hello/isMaster answer 91 ShutdownInProgress so clients move away.
   */
  quiesceDeadlineMs: number | undefined;
  private shutdownHandler: ((exitCode: number, quiesceMs: number) => void) | undefined;

  constructor(init: NodeInit) {
    this.version = init.version;
    this.program = init.program;
    this.options = init.options;
    this.log = init.log;
    this.storage = init.storage;
    this.argv0 = init.argv0 ?? init.program;
    this.clusterKey = init.clusterKey;
    this.tls = init.tls;
    this.role = new StandaloneRole(this);
    for (const [k, v] of Object.entries(init.options.setParameters)) {
      // Integer parameters with rules are stored as the numbers getParameter reports (startup validated them).
      this.parameters.set(k, isVersionedParameter(k) ? normaliseVersionedParameter(k, v) : v);
    }
    this.access = new AccessControl(this);
  }

  /** The port actually bound (differs from options.port for `--port 0`, an ephemeral port). */
  boundPort: number | undefined;

  get port(): number {
    return this.boundPort ?? this.options.port;
  }

  /** "hostname:port" as serverStatus.host and a default replSetInitiate member report it. */
  get hostAndPort(): string {
    return `${hostname()}:${this.port}`;
  }

  get testCommandsEnabled(): boolean {
    const v = this.parameters.get('enableTestCommands');
    return v === true || v === 1 || v === '1' || v === 'true';
  }

  requireStorage(): Storage {
    if (!this.storage) throw new CommandError(ErrorCode.IllegalOperation, 'no storage on this process');
    return this.storage;
  }

  /**
   * Called with every batch before it is committed; may throw to refuse it before anything is written
   * (transactions keep their snapshot and detect write conflicts here, sim/src/txn/).
   */
  readonly commitObservers: ((ops: StorageOp[]) => void)[] = [];

  /** The one write path: role checks have been done by the caller; the role persists and logs ops. */
  commit(ops: StorageOp[]): CommitResult {
    for (const observe of this.commitObservers) observe(ops);
    const result = this.role.commit(ops);
    this.counters.noteCommit(ops);
    return result;
  }

  waitForWriteConcern(result: CommitResult, wc: WriteConcern | undefined): Promise<Document | undefined> {
    return this.role.waitForWriteConcern(result, wc);
  }

  /** main.ts installs the process-level shutdown; commands call requestShutdown. */
  onShutdown(handler: (exitCode: number, quiesceMs: number) => void): void {
    this.shutdownHandler = handler;
  }

  /** The shutdown command: the step-down is done; `quiesceMs` bounds quiesce mode (5.0+, §5.7). */
  requestShutdown(exitCode = 0, quiesceMs = 0): void {
    this.shutdownHandler?.(exitCode, quiesceMs);
  }

  get inQuiesceMode(): boolean {
    return this.quiesceDeadlineMs !== undefined;
  }

  /** Enters quiesce mode: the topologyVersion moves, which answers every waiting hello (with the error). */
  enterQuiesceMode(ms: number): void {
    this.quiesceDeadlineMs = Date.now() + ms;
    this.topology.bump();
  }

  remainingQuiesceMs(): number {
    return this.quiesceDeadlineMs === undefined ? 0 : Math.max(0, this.quiesceDeadlineMs - Date.now());
  }

  /**
   * Whether failpoint `name` fires now. `applies` filters by the failpoint's data (e.g. failCommand's
   * command list); only a firing evaluation consumes a {times}/{skip} count, as in mongod.
   */
  failPointActive(name: string, applies?: (data: Document) => boolean): FailPointState | undefined {
    const fp = this.failPoints.get(name);
    if (!fp || fp.mode === 'off') return undefined;
    if (applies && !applies(fp.data)) return undefined;
    if (typeof fp.mode === 'object' && 'times' in fp.mode) {
      if (fp.mode.times <= 0) return undefined;
      fp.mode.times--;
    } else if (typeof fp.mode === 'object' && 'skip' in fp.mode) {
      if (fp.mode.skip > 0) {
        fp.mode.skip--;
        return undefined;
      }
    }
    return fp;
  }
}
