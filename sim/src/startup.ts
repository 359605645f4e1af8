// Process lifecycle in mongod's order: parse options (exit 2) → global init: setParameter and log file
// (exit 1; mongos 14) → "MongoDB starting" → dbPath exists (100) → mongod.lock (100 DBPathInUse) →
// data FCV compatible (62) → bind (48) → "Waiting for connections"; fork parent exits 0 once the child
// listens; SIGTERM/SIGINT/shutdown exit 0 with the lock file emptied.
// Source: SIMULATOR.md "Process behaviour", reference/mongod-behavior.md §5.2–§5.7, §6, §8.4.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { Long } from 'bson';
import { registerAuthCommands } from './auth/index.js';
import { helpOutput, versionOutput } from './banner.js';
import { installChangeStreams } from './changes/stream.js';
import { buildInfo } from './commands/basic.js';
import { shellValue } from './commands/common.js';
import { registerFsyncCommands } from './commands/fsync.js';
import { registerCoreCommands } from './commands/index.js';
import { ExitCode } from './errors.js';
import { fcvWriteOps, readFcv, startupFcvProblem } from './fcv.js';
import { readKeyFile } from './keyfile.js';
import { crashAfterMs, FORK_CHILD_ENV, startupDelayMs, syncCompaction } from './knobs.js';
import { Logger } from './log.js';
import { SimNode } from './node.js';
import { OptionsError, parseOptions, type ServerOptions } from './options.js';
import {
  hasQuiesceMode,
  isVersionedParameter,
  normaliseVersionedParameter,
  ParameterValueError,
  signaledShutdownTimeoutMs,
} from './parameters.js';
import { registerStandaloneReplCommands } from './repl/standalone.js';
import type { ReplicationRole, ReplicationRoleFactory } from './replication.js';
import { initSharding } from './sharding/index.js';
import { DbPathLock } from './storage/lockfile.js';
import { Storage, type StorageOp } from './storage/store.js';
import { installTransactions } from './txn/participant.js';
import { atLeast, defaultShutdownTimeoutSecs, type Program, type VersionInfo } from './version.js';
import { planListen } from './wire/addresses.js';
import { EphemeralPortError, WireServer } from './wire/server.js';
import { loadTlsMaterial, TlsFileError, type TlsMaterial } from './wire/tls.js';

export interface ProcessArgs {
  readonly program: Program;
  readonly version: VersionInfo;
  readonly argv: string[];
  /** How the binary was invoked, for "try '<argv0> --help'". */
  readonly argv0: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the process. Resolves with an exit code for immediate exits, or undefined while serving. */
export async function runProcess(args: ProcessArgs): Promise<number | undefined> {
  const { program, version } = args;
  let outcome: ReturnType<typeof parseOptions>;
  try {
    outcome = parseOptions(args.argv, program, version);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`${err.message}\ntry '${args.argv0} --help' for more information\n`);
    return ExitCode.badOptions;
  }
  if (outcome.kind === 'version') {
    process.stdout.write(versionOutput(program, version));
    return ExitCode.clean;
  }
  if (outcome.kind === 'help') {
    process.stdout.write(helpOutput(program));
    return ExitCode.clean;
  }
  const options = outcome.options;
  if (options.fork && process.env[FORK_CHILD_ENV] !== '1') return forkParent(args);

  // Global initialisation failures exit 1 on mongod and 14 on mongos (§5.2).
  const globalInitExit = program === 'mongos' ? ExitCode.abrupt : ExitCode.fail;
  const console = new Logger({ version, append: true, utc: false });
  const firstUnknown = outcome.unknownSetParameters[0];
  if (firstUnknown !== undefined) {
    globalInitFailure(console, 2, 'BadValue', `Unknown --setParameter '${firstUnknown}'`);
    return globalInitExit;
  }
  for (const [name, value] of Object.entries(options.setParameters)) {
    if (!isVersionedParameter(name)) continue;
    try {
      normaliseVersionedParameter(name, value);
    } catch (err) {
      if (!(err instanceof ParameterValueError)) throw err;
      globalInitFailure(console, err.code, err.codeName, err.message);
      return globalInitExit;
    }
  }
  let log: Logger;
  try {
    log = new Logger({
      version,
      ...(options.logPath ? { path: options.logPath } : {}),
      append: options.logAppend,
      utc: options.logUtc,
      rotate: options.logRotate,
    });
  } catch {
    globalInitFailure(
      console,
      38,
      'FileNotOpen',
      `Can't initialize rotatable log file :: caused by :: Failed to open ${options.logPath ?? ''}`,
    );
    return globalInitExit;
  }
  if (options.pidFilePath) {
    try {
      writeFileSync(options.pidFilePath, `${process.pid}\n`);
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(err);
      log.write({
        s: 'F',
        c: 'CONTROL',
        id: 20574,
        ctx: 'main',
        msg: 'Error during global initialization',
        attr: {
          error: {
            code: 1,
            codeName: 'InternalError',
            errmsg: `Cannot write pid file to ${options.pidFilePath}: ${reason}`,
          },
        },
        text: `Failed global initialization: Cannot write pid file to ${options.pidFilePath}: ${reason}`,
      });
      return globalInitExit;
    }
  }
  let clusterKey: string | undefined;
  if (options.keyFile) {
    const key = readKeyFile(options.keyFile);
    if ('error' in key) {
      log.write({
        s: 'E',
        c: 'ACCESS',
        id: 20254,
        ctx: 'main',
        msg: 'Read failure',
        attr: { filename: options.keyFile, error: key.error },
        text: key.error,
      });
      return globalInitExit;
    }
    clusterKey = key.key;
  }
  let tls: TlsMaterial | undefined;
  try {
    tls = loadTlsMaterial(options.tls);
  } catch (err) {
    if (!(err instanceof TlsFileError)) throw err;
    globalInitFailure(log, 140, 'InvalidSSLConfiguration', err.message);
    return globalInitExit;
  }
  return startServer(args, options, log, clusterKey, tls);
}

function globalInitFailure(log: Logger, code: number, codeName: string, errmsg: string): void {
  log.write({
    s: 'F',
    c: 'CONTROL',
    id: 20574,
    ctx: 'main',
    msg: 'Error during global initialization',
    attr: { error: { code, codeName, errmsg } },
    text: `Failed global initialization: ${codeName}: ${errmsg}`,
  });
}

/** Logs the shutdown tail and exits: used by startup failures after "MongoDB starting" and by shutdown. */
function exitWith(log: Logger, code: number, ctx = 'initandlisten'): never {
  log.info('CONTROL', 20565, ctx, 'Now exiting', undefined, 'now exiting');
  log.info('CONTROL', 23138, ctx, 'Shutting down', { exitCode: code }, `shutting down with code:${code}`);
  log.close();
  process.exit(code);
}

/** The configured storage.engine when it is one the simulator does not provide (anything but wiredTiger). */
function unsupportedStorageEngine(options: ServerOptions): string | undefined {
  const storageSection = options.parsed.storage as Record<string, unknown> | undefined;
  const engine = storageSection?.engine;
  if (engine === undefined || engine === 'wiredTiger') return undefined;
  return String(engine);
}

function initAndListenFailure(log: Logger, error: string): void {
  log.write({
    s: 'E',
    c: 'STORAGE',
    id: 20557,
    ctx: 'initandlisten',
    msg: 'DBException in initAndListen, terminating',
    attr: { error },
    text: `exception in initAndListen: ${error}, terminating`,
  });
}

async function loadReplSetRole(node: SimNode): Promise<ReplicationRole> {
  // Resolved at run time so the core builds and runs before the replica-set module exists.
  const spec = './repl/index.js';
  const mod: unknown = await import(spec);
  const factory = (mod as { createReplSetRole?: ReplicationRoleFactory }).createReplSetRole;
  if (typeof factory !== 'function')
    throw new Error('sim/src/repl/index.js does not export createReplSetRole');
  return factory(node);
}

async function startServer(
  args: ProcessArgs,
  options: ServerOptions,
  log: Logger,
  clusterKey: string | undefined,
  tls: TlsMaterial | undefined,
): Promise<undefined> {
  const { program, version } = args;
  const json = atLeast(version, 4, 4);
  const isMongod = program === 'mongod';
  log.info(
    'CONTROL',
    4615611,
    'initandlisten',
    'MongoDB starting',
    {
      pid: process.pid,
      port: options.port,
      ...(isMongod ? { dbPath: options.dbPath } : {}),
      architecture: '64-bit',
      host: hostname(),
    },
    `MongoDB starting : pid=${process.pid} port=${options.port}${isMongod ? ` dbpath=${options.dbPath}` : ''} 64-bit host=${hostname()}`,
  );
  log.info(
    'CONTROL',
    23403,
    'initandlisten',
    'Build Info',
    { buildInfo: buildInfo(version) },
    `${isMongod ? 'db' : 'mongos'} version v${version.full}`,
  );
  log.info(
    'CONTROL',
    21951,
    'initandlisten',
    'Options set by command line',
    { options: options.parsed },
    `options: ${shellValue(options.parsed)}`,
  );

  let storage: Storage | undefined;
  let lock: DbPathLock | undefined;
  // A signal before the server is ready (slow start, mongos waiting for its config servers) still
  // shuts down cleanly with exit 0, as mongod's signal thread does.
  const onEarlySignal = (number: number, error: string): void => {
    log.info(
      'CONTROL',
      23377,
      'SignalHandler',
      'Received signal',
      { signal: number, error },
      `got signal ${number} (${error}), will terminate after current cmd ends`,
    );
    storage?.close();
    lock?.release();
    exitWith(log, ExitCode.clean, 'SignalHandler');
  };
  const earlyTerm = (): void => onEarlySignal(15, 'Terminated');
  const earlyInt = (): void => onEarlySignal(2, 'Interrupt');
  process.on('SIGTERM', earlyTerm);
  process.on('SIGINT', earlyInt);
  if (isMongod) {
    if (!existsSync(options.dbPath) || !statSync(options.dbPath).isDirectory()) {
      initAndListenFailure(
        log,
        `NonExistentPath: Data directory ${options.dbPath} not found.${json ? " Create the missing directory or specify another path using (1) the --dbpath command line option, or (2) by adding the 'storage.dbPath' option in the configuration file." : ''}`,
      );
      exitWith(log, ExitCode.uncaught);
    }
    lock = new DbPathLock(options.dbPath);
    let got: ReturnType<DbPathLock['acquire']>;
    try {
      got = lock.acquire();
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'EACCES'
          ? 'Permission denied'
          : String((err as Error).message);
      initAndListenFailure(
        log,
        `DBPathInUse: Unable to create/open the lock file: ${lock.path} (${reason}). Ensure the user executing mongod is the owner of the lock file and has the appropriate permissions. Also make sure that another mongod instance is not already running on the ${options.dbPath} directory`,
      );
      exitWith(log, ExitCode.uncaught);
    }
    if (got.kind === 'inUse') {
      initAndListenFailure(
        log,
        `DBPathInUse: Unable to lock the lock file: ${lock.path} (Resource temporarily unavailable). Another mongod instance is already running on the ${options.dbPath} directory`,
      );
      exitWith(log, ExitCode.uncaught);
    }
    if (got.uncleanShutdown) {
      log.warn(
        'STORAGE',
        22271,
        'initandlisten',
        'Detected unclean shutdown - Lock file is not empty',
        { lockFile: lock.path },
        `Detected unclean shutdown - ${lock.path} is not empty.`,
      );
    }
    const engine = unsupportedStorageEngine(options);
    if (engine !== undefined) {
      // storage_engine_init.cpp, after the lock file: uassert 18656 (exit 100). Only wiredTiger is simulated;
      // inMemory is an Enterprise engine that community builds do not know either.
      initAndListenFailure(
        log,
        `Location18656: Cannot start server with an unknown storage engine: ${engine}`,
      );
      lock.release();
      exitWith(log, ExitCode.uncaught);
    }
    storage = Storage.open(options.dbPath, { syncCompaction: syncCompaction() });
    const problem = startupFcvProblem(readFcv(storage), version);
    if (problem) {
      log.write({
        s: 'F',
        c: 'CONTROL',
        id: 20573,
        ctx: 'initandlisten',
        msg: 'Wrong mongod version',
        attr: { error: problem },
        text: problem,
      });
      storage.close();
      lock.release();
      exitWith(log, ExitCode.needDowngrade);
    }
  }

  if (!options.authorization) {
    log.startupWarning(
      'CONTROL',
      22120,
      'Access control is not enabled for the database. Read and write access to data and configuration is unrestricted',
      '** WARNING: Access control is not enabled for the database.\n**          Read and write access to data and configuration is unrestricted.',
    );
  }
  const node = new SimNode({
    version,
    program,
    options,
    log,
    argv0: args.argv0,
    ...(clusterKey ? { clusterKey } : {}),
    ...(tls ? { tls } : {}),
    ...(storage ? { storage } : {}),
  });
  registerCoreCommands(node.commands);
  registerAuthCommands(node.commands, node.access);
  // A new standalone data directory starts at the binary's FCV; replica sets get theirs at initiate (§6).
  if (storage && !options.replSetName && !readFcv(storage)) {
    storage.apply(fcvWriteOps(storage, { version: version.series }));
  }
  if (storage) recordStartup(storage, options, version);
  if (isMongod && options.replSetName) node.role = await loadReplSetRole(node);
  else if (isMongod) registerStandaloneReplCommands(node);
  // Sessions' transactions (standalones answer transaction statements with IllegalOperation).
  if (isMongod) installTransactions(node);
  // Change streams over the oplog (standalones answer $changeStream with 40573).
  if (isMongod) installChangeStreams(node);
  if (isMongod) registerFsyncCommands(node.commands, node);
  // Config server / shard / mongos commands (§4); mongos waits for its config servers before listening.
  const sharding = initSharding(node);

  const delay = startupDelayMs();
  if (delay > 0) await sleep(delay);

  await sharding.beforeListen();
  const server = new WireServer(node);
  const plan = await planListen(options.bindIps, options.bindIpAll);
  const addresses = plan.kind === 'ok' ? plan.addresses : [plan.address];
  let failure:
    | { errno: number; message: string; address: string; code?: number; codeName?: string }
    | undefined;
  if (plan.kind === 'error') {
    failure = plan;
  } else {
    try {
      node.boundPort = await server.listen(addresses, options.port);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      failure =
        err instanceof EphemeralPortError
          ? { errno: 0, message: err.message, address: addresses.join(','), codeName: 'BadValue', code: 2 }
          : code === 'EADDRINUSE'
            ? { errno: 98, message: 'Address already in use', address: addresses[0] as string }
            : code === 'EADDRNOTAVAIL'
              ? { errno: 99, message: 'Cannot assign requested address', address: addresses[0] as string }
              : { errno: 0, message: String((err as Error).message), address: addresses[0] as string };
    }
  }
  if (failure) {
    log.write({
      s: 'E',
      c: 'NETWORK',
      id: isMongod ? 20568 : 22856,
      ctx: 'initandlisten',
      msg: 'Error setting up listener',
      attr: {
        error: {
          code: failure.code ?? 9001,
          codeName: failure.codeName ?? 'SocketException',
          errmsg: failure.message,
        },
      },
      text: `listen(): bind() failed errno:${failure.errno} ${failure.message} for socket: ${failure.address}:${options.port}`,
    });
    if (!json) {
      log.write({
        s: 'E',
        c: 'STORAGE',
        id: 0,
        ctx: 'initandlisten',
        msg: 'Failed to set up sockets during startup.',
      });
    }
    await server.close();
    storage?.close();
    lock?.release();
    exitWith(log, ExitCode.listenerFailure);
  }

  await node.role.start();
  sharding.start();
  for (const a of addresses)
    log.info('NETWORK', 23015, 'listener', 'Listening on', { address: a }, `Listening on ${a}`);
  log.info(
    'NETWORK',
    23016,
    'listener',
    'Waiting for connections',
    // With --port 0 mongod reports the port the kernel chose (TransportLayerASIO's _listenerPort).
    { port: node.port, ssl: tls ? 'on' : 'off' },
    `waiting for connections on port ${node.port}`,
  );
  // The shutdown handlers go in before the early ones come out: a process with no SIGTERM listener left,
  // even for an instant, gets the default action (killed by the signal) — a client that saw the line
  // above and stopped the server at once would see it die instead of exit 0.
  installShutdown(node, server, lock);
  process.off('SIGTERM', earlyTerm);
  process.off('SIGINT', earlyInt);
  signalForkParent();
  const crashAfter = crashAfterMs();
  if (crashAfter > 0) setTimeout(() => process.kill(process.pid, 'SIGKILL'), crashAfter).unref();
  return undefined;
}

/** mongod records every start in the capped collection local.startup_log. */
function recordStartup(storage: Storage, options: ServerOptions, version: VersionInfo): void {
  const now = new Date();
  const ops: StorageOp[] = [];
  if (!storage.getCollection('local', 'startup_log')) {
    ops.push({
      op: 'createCollection',
      db: 'local',
      coll: 'startup_log',
      options: { capped: true, size: 10485760 },
    });
  }
  ops.push({
    op: 'insert',
    db: 'local',
    coll: 'startup_log',
    doc: {
      _id: `${hostname()}-${now.getTime()}`,
      hostname: hostname(),
      startTime: now,
      startTimeLocal: now.toString(),
      cmdLine: options.parsed,
      pid: Long.fromNumber(process.pid),
      buildinfo: buildInfo(version),
    },
  });
  storage.apply(ops);
}

function signalForkParent(): void {
  if (process.env[FORK_CHILD_ENV] !== '1') return;
  try {
    writeSync(3, 'ready\n');
    closeSync(3);
  } catch {
    // The parent went away; nothing to tell.
  }
}

/** How long after the configured shutdown time a stuck shutdown is cut short by a hard exit. */
const HARD_EXIT_MARGIN_MS = 30_000;

const sleepUnref = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Quiesce mode (5.0+, §5.7). mongod: "Attempting to enter quiesce mode", and only a SECONDARY enters it;
 * mongos always does. The topologyVersion moves, every waiting and new hello answers ShutdownInProgress,
 * every other operation keeps working, and the process sleeps for the whole remaining time (mongod_main.cpp
 * shutdownTask: opCtx->sleepFor(shutdownTimeout); mongos: MongosTopologyCoordinator::enterQuiesceModeAndWait).
 */
async function quiesce(node: SimNode, ms: number, ctx: string): Promise<void> {
  const log = node.log;
  if (node.program === 'mongos') {
    node.enterQuiesceMode(ms);
    log.info('SHARDING', 4695701, ctx, 'Entering quiesce mode for mongos shutdown', {
      quiesceTimeMillis: ms,
    });
    await sleepUnref(ms);
    log.info('SHARDING', 4695702, ctx, 'Exiting quiesce mode for mongos shutdown');
    return;
  }
  log.info('REPL', 4794602, ctx, 'Attempting to enter quiesce mode');
  if (!node.role.enterQuiesceIfSecondary?.()) return;
  node.enterQuiesceMode(ms);
  log.info('REPL', 4695102, ctx, 'Entering quiesce mode for shutdown', { quiesceTimeMillis: ms });
  await sleepUnref(ms);
  log.info('REPL', 4695103, ctx, 'Exiting quiesce mode for shutdown');
}

function installShutdown(node: SimNode, server: WireServer, lock: DbPathLock | undefined): void {
  let started = false;
  const log = node.log;
  const version = node.version;
  /**
   * A signal: mongod steps down (waiting up to the timeout for a caught-up electable secondary, going on
   * if none comes) and quiesces for what is left of the timeout; mongos quiesces for the whole timeout.
   * The timeout is shutdownTimeoutMillisForSignaledShutdown / mongosShutdownTimeoutMillisForSignaledShutdown
   * (5.0+), or the fixed 10 s step-down wait before 5.0 (which has no quiesce). The shutdown command did
   * its step-down already and passes its remaining timeoutSecs as `quiesceMs`.
   */
  const shutdown = async (code: number, fromSignal: boolean, quiesceMs: number): Promise<void> => {
    if (started) return;
    started = true;
    const ctx = fromSignal ? 'SignalHandler' : 'conn';
    const timeoutMs = fromSignal
      ? hasQuiesceMode(version)
        ? signaledShutdownTimeoutMs(node.program, node.parameters)
        : defaultShutdownTimeoutSecs(version) * 1000
      : quiesceMs;
    // Never hang forever: a stuck role or socket must not keep a "stopped" server alive, but a long
    // configured shutdown timeout is honoured in full.
    setTimeout(() => process.exit(code), timeoutMs + HARD_EXIT_MARGIN_MS).unref();
    const began = Date.now();
    if (fromSignal && node.program === 'mongod') {
      if (atLeast(version, 4, 4)) {
        log.info('REPL', 4784900, ctx, 'Stepping down the ReplicationCoordinator for shutdown', {
          waitTimeMillis: timeoutMs,
        });
      }
      try {
        await node.role.prepareShutdown({ force: false, timeoutSecs: timeoutMs / 1000, fromSignal: true });
      } catch {
        // A failed step-down does not block a signal-initiated shutdown (§5.7).
      }
    }
    if (hasQuiesceMode(version)) await quiesce(node, Math.max(0, timeoutMs - (Date.now() - began)), ctx);
    node.shuttingDown = true;
    await node.role.stop();
    await server.close();
    node.storage?.close();
    log.info('STORAGE', 22279, ctx, 'shutdown: removing fs lock...');
    lock?.release();
    exitWith(log, code, ctx);
  };
  const onSignal = (number: number, error: string): void => {
    log.info(
      'CONTROL',
      23377,
      'SignalHandler',
      'Received signal',
      { signal: number, error },
      `got signal ${number} (${error}), will terminate after current cmd ends`,
    );
    if (atLeast(version, 4, 4))
      log.info('CONTROL', 23381, 'SignalHandler', 'will terminate after current cmd ends');
    void shutdown(ExitCode.clean, true, 0);
  };
  process.on('SIGTERM', () => onSignal(15, 'Terminated'));
  process.on('SIGINT', () => onSignal(2, 'Interrupt'));
  process.on('SIGHUP', () => {});
  process.on('SIGUSR1', () => log.rotate());
  node.onShutdown((code, quiesceMs) => {
    // Let the shutdown command's own log line flush before tearing the sockets down.
    setImmediate(() => void shutdown(code, false, quiesceMs));
  });
}

/** fork: true — start a detached child and exit 0 once it listens, or with its code if it dies (§5.5). */
function forkParent(args: ProcessArgs): Promise<number> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  out('about to fork child process, waiting until server is ready for connections.');
  const entry = process.argv[1] as string;
  const child = spawn(process.execPath, [entry, ...args.argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [FORK_CHILD_ENV]: '1' },
  });
  out(`forked process: ${child.pid}`);
  return new Promise((resolve) => {
    let ready = false;
    const pipe = child.stdio[3];
    pipe?.on('data', (chunk: Buffer) => {
      if (!ready && chunk.toString().includes('ready')) {
        ready = true;
        out('child process started successfully, parent exiting');
        child.unref();
        pipe.destroy();
        resolve(ExitCode.clean);
      }
    });
    child.on('exit', (code) => {
      if (ready) return;
      const c = code ?? ExitCode.fail;
      out(
        atLeast(args.version, 4, 4)
          ? `ERROR: child process failed, exited with ${c}`
          : `ERROR: child process failed, exited with error number ${c}`,
      );
      out('To see additional information in this output, start without the "--fork" option.');
      resolve(c);
    });
  });
}
