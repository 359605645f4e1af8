// Commands every mongod/mongos answers regardless of role: ping, buildInfo, getCmdLineOpts,
// serverStatus, hostInfo, getParameter/setParameter, connectionStatus, sessions, getLog, logRotate,
// shutdown, configureFailPoint. Source: reference/mongod-behavior.md §2.7, §5.7.
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { type Document, Double, Int32, Long, UUID } from 'bson';
import { asNumber } from '../bsonvalues.js';
import { CommandError, ErrorCode } from '../errors.js';
import { fcvParameter, readFcv } from '../fcv.js';
import type { SimNode } from '../node.js';
import { notSettableAtRuntimeText, PARAMETER_FACTS, parameterFact } from '../parameter-table.js';
import {
  DEFAULT_SIGNALED_SHUTDOWN_TIMEOUT_MS,
  hasQuiesceMode,
  isVersionedParameter,
  normaliseVersionedParameter,
  ParameterValueError,
  SHUTDOWN_TIMEOUT_PARAMETER,
} from '../parameters.js';
import {
  atLeast,
  defaultShutdownTimeoutSecs,
  gitVersion,
  maxWireVersion,
  openSslVersion,
  type VersionInfo,
} from '../version.js';
import type { CommandContext, CommandRegistry } from './registry.js';

export function buildInfo(v: VersionInfo): Document {
  return {
    version: v.full,
    gitVersion: gitVersion(v),
    modules: [],
    allocator: 'tcmalloc',
    javascriptEngine: 'mozjs',
    sysInfo: 'deprecated',
    versionArray: [new Int32(v.major), new Int32(v.minor), new Int32(v.patch), new Int32(0)],
    openssl: { running: openSslVersion(v), compiled: openSslVersion(v) },
    buildEnvironment: {
      distmod: atLeast(v, 6, 0) ? 'ubuntu2204' : 'ubuntu2004',
      distarch: 'x86_64',
      cc: '/opt/mongodbtoolchain/v4/bin/gcc',
      ccflags: '-Werror -include mongo/platform/basic.h',
      cxx: '/opt/mongodbtoolchain/v4/bin/g++',
      linkflags: '-Wl,--fatal-warnings -pthread',
      target_arch: 'x86_64',
      target_os: 'linux',
    },
    bits: new Int32(64),
    debug: false,
    maxBsonObjectSize: new Int32(16 * 1024 * 1024),
    storageEngines: ['devnull', 'wiredTiger'],
  };
}

/** Server parameters readable by getParameter with their defaults (runtime values override). */
function parameterDefaults(node: SimNode): Record<string, unknown> {
  const out: Record<string, unknown> = {
    authenticationMechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    enableLocalhostAuthBypass: true,
    enableTestCommands: false,
    logLevel: new Int32(0),
    quiet: false,
    notablescan: false,
    ttlMonitorEnabled: true,
    cursorTimeoutMillis: Long.fromNumber(600_000),
    diagnosticDataCollectionEnabled: true,
    scramIterationCount: new Int32(10_000),
    scramSHA256IterationCount: new Int32(15_000),
    transactionLifetimeLimitSeconds: new Int32(60),
  };
  if (hasQuiesceMode(node.version)) {
    out[SHUTDOWN_TIMEOUT_PARAMETER[node.program]] = new Int32(DEFAULT_SIGNALED_SHUTDOWN_TIMEOUT_MS);
  }
  return out;
}

function currentParameters(node: SimNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(PARAMETER_FACTS)) {
    const f = parameterFact(name, node.program, node.version);
    if (f) out[name] = f.defaultValue();
  }
  for (const [k, v] of Object.entries(parameterDefaults(node))) {
    // A parameter the table knows exists only where the table says (mongod-only ones not on mongos).
    if (!(k in PARAMETER_FACTS) || parameterFact(k, node.program, node.version)) out[k] = v;
  }
  for (const [k, v] of node.parameters) out[k] = v;
  if (node.program === 'mongod' && node.storage) {
    const fcv = readFcv(node.storage);
    out.featureCompatibilityVersion = fcvParameter(fcv ?? { version: node.version.series });
  }
  return out;
}

function getParameter(ctx: CommandContext): Document {
  const params = currentParameters(ctx.node);
  if (ctx.body.getParameter === '*') return { ...params };
  const reply: Document = {};
  for (const key of Object.keys(ctx.body).slice(1)) {
    if (key.startsWith('$') || key === 'lsid' || key === 'comment') continue;
    if (!(key in params)) throw new CommandError(ErrorCode.InvalidOptions, 'no option found to get');
    reply[key] = params[key];
  }
  if (Object.keys(reply).length === 0)
    throw new CommandError(ErrorCode.InvalidOptions, 'no option found to get');
  return reply;
}

function setParameter(ctx: CommandContext): Document {
  const node = ctx.node;
  const params = currentParameters(node);
  const reply: Document = {};
  let count = 0;
  for (const [key, value] of Object.entries(ctx.body).slice(1)) {
    if (key.startsWith('$') || key === 'lsid' || key === 'comment') continue;
    if (!(key in params)) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        `attempted to set unrecognized parameter [${key}], use help:true to see options `,
      );
    }
    // featureCompatibilityVersion is read-only; startup-only parameters are refused the same way.
    const fact = parameterFact(key, node.program, node.version);
    if (key === 'featureCompatibilityVersion' || fact?.setAt === 'startup') {
      throw new CommandError(ErrorCode.IllegalOperation, notSettableAtRuntimeText(key));
    }
    let stored = value;
    if (isVersionedParameter(key)) {
      try {
        stored = normaliseVersionedParameter(key, value);
      } catch (err) {
        if (!(err instanceof ParameterValueError)) throw err;
        throw new CommandError(err.code, err.message, {}, err.codeName);
      }
    }
    reply.was = params[key];
    node.parameters.set(key, stored);
    count++;
  }
  if (count === 0)
    throw new CommandError(ErrorCode.InvalidOptions, 'no option found to set, use help:true to see options ');
  return reply;
}

function serverStatus(ctx: CommandContext): Document {
  const node = ctx.node;
  const uptimeMs = Date.now() - node.startedAt;
  const mem = process.memoryUsage();
  const reply: Document = {
    host: node.hostAndPort,
    version: node.version.full,
    process: node.program,
    pid: Long.fromNumber(process.pid),
    uptime: new Double(Math.floor(uptimeMs / 1000)),
    uptimeMillis: Long.fromNumber(uptimeMs),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMs / 1000)),
    localTime: new Date(),
    asserts: node.counters.assertsSection(),
    connections: {
      current: new Int32(node.connections.current),
      available: new Int32(838_860 - node.connections.current),
      totalCreated: new Int32(node.connections.totalCreated),
      active: new Int32(1),
    },
    network: {
      bytesIn: Long.fromNumber(node.network.bytesIn),
      bytesOut: Long.fromNumber(node.network.bytesOut),
      numRequests: Long.fromNumber(node.network.numRequests),
    },
    opcounters: Object.fromEntries(Object.entries(node.opcounters).map(([k, v]) => [k, Long.fromNumber(v)])),
    mem: {
      bits: new Int32(64),
      resident: new Int32(Math.round(mem.rss / 1024 / 1024)),
      virtual: new Int32(Math.round((mem.rss + mem.external) / 1024 / 1024)),
      supported: true,
    },
  };
  const repl = node.role.serverStatusRepl();
  if (repl && ctx.body.repl !== 0) reply.repl = repl;
  reply.metrics = node.counters.metricsSection(repl !== undefined && node.program === 'mongod');
  if (node.program === 'mongod') {
    reply.opcountersRepl = node.counters.opcountersReplSection();
    if (repl) reply.electionMetrics = node.counters.electionMetricsSection();
    reply.wiredTiger = { cache: wiredTigerCache(node) };
    reply.storageEngine = {
      name: 'wiredTiger',
      supportsCommittedReads: true,
      supportsPendingDrops: true,
      dropPendingIdents: Long.fromNumber(0),
      supportsSnapshotReadConcern: true,
      readOnly: false,
      persistent: true,
      backupCursorOpen: false,
    };
  }
  return reply;
}

/**
 * wiredTiger.cache sizes: the configured maximum (cacheSizeGB, else WiredTiger's default of the larger of
 * 50% of (RAM - 1 GB) and 256 MB) and what the data takes, which here is all held in memory.
 */
function wiredTigerCache(node: SimNode): Document {
  const configuredGb = asNumber(
    (
      ((node.options.parsed.storage as Document | undefined)?.wiredTiger as Document | undefined)
        ?.engineConfig as Document | undefined
    )?.cacheSizeGB,
  );
  const maximum =
    configuredGb !== undefined
      ? Math.floor(configuredGb * 1024 ** 3)
      : Math.max(256 * 1024 ** 2, Math.floor(0.5 * (totalmem() - 1024 ** 3)));
  const inCache = Math.min(node.storage?.diskSize() ?? 0, maximum);
  return {
    'maximum bytes configured': Long.fromNumber(maximum),
    'bytes currently in the cache': Long.fromNumber(inCache),
    'tracked dirty bytes in the cache': Long.fromNumber(0),
  };
}

function hostInfo(): Document {
  return {
    system: {
      currentTime: new Date(),
      hostname: hostname(),
      cpuAddrSize: new Int32(64),
      memSizeMB: Long.fromNumber(Math.round(totalmem() / 1024 / 1024)),
      memLimitMB: Long.fromNumber(Math.round(totalmem() / 1024 / 1024)),
      numCores: new Int32(cpus().length),
      cpuArch: arch() === 'x64' ? 'x86_64' : arch(),
      numaEnabled: false,
    },
    os: { type: 'Linux', name: 'Linux', version: release() },
    extra: { versionString: `Linux version ${release()}`, pageSize: Long.fromNumber(4096) },
  };
}

async function shutdown(ctx: CommandContext): Promise<Document> {
  const node = ctx.node;
  const force = ctx.body.force === true;
  const timeoutSecs = asNumber(ctx.body.timeoutSecs) ?? defaultShutdownTimeoutSecs(node.version);
  const began = Date.now();
  await node.role.prepareShutdown({ force, timeoutSecs, fromSignal: false });
  // 5.0+: quiesce mode for what is left of timeoutSecs after the step-down (§5.7).
  const quiesceMs = Math.max(0, Math.round(timeoutSecs * 1000) - (Date.now() - began));
  node.log.info(
    'COMMAND',
    4695400,
    `conn${ctx.conn.id}`,
    'Terminating via shutdown command',
    {
      force,
      timeoutSecs,
    },
    'terminating, shutdown command received',
  );
  node.requestShutdown(0, quiesceMs);
  // mongod does not answer a successful shutdown: the connection closes as the process exits (§5.7).
  return new Promise<Document>(() => {});
}

function configureFailPoint(ctx: CommandContext): Document {
  const name = ctx.body.configureFailPoint;
  if (typeof name !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, 'configureFailPoint must be a string');
  const mode = ctx.body.mode;
  const data = (ctx.body.data as Document | undefined) ?? {};
  const previous = ctx.node.failPoints.get(name);
  if (mode === 'alwaysOn' || mode === 'off') {
    ctx.node.failPoints.set(name, { mode, data });
  } else if (mode && typeof mode === 'object' && 'times' in mode) {
    ctx.node.failPoints.set(name, { mode: { times: asNumber((mode as Document).times) ?? 0 }, data });
  } else if (mode && typeof mode === 'object' && 'skip' in mode) {
    ctx.node.failPoints.set(name, { mode: { skip: asNumber((mode as Document).skip) ?? 0 }, data });
  } else {
    throw new CommandError(ErrorCode.BadValue, 'mode must be one of alwaysOn, off, {times: n}, {skip: n}');
  }
  return { count: new Int32(previous ? 1 : 0) };
}

export function registerBasicCommands(registry: CommandRegistry): void {
  registry.register({ names: ['ping'], handler: () => ({}) });
  registry.register({ names: ['buildInfo', 'buildinfo'], handler: (ctx) => buildInfo(ctx.node.version) });
  registry.register({
    names: ['getCmdLineOpts'],
    adminOnly: true,
    handler: (ctx) => ({
      argv: [ctx.node.argv0, ...ctx.node.options.argv],
      parsed: ctx.node.options.parsed,
    }),
  });
  registry.register({ names: ['serverStatus'], handler: serverStatus });
  registry.register({ names: ['hostInfo'], handler: hostInfo });
  registry.register({ names: ['getParameter'], adminOnly: true, handler: getParameter });
  registry.register({ names: ['setParameter'], adminOnly: true, handler: setParameter });
  registry.register({
    names: ['endSessions', 'refreshSessions', 'killSessions', 'killAllSessions'],
    handler: () => ({}),
  });
  registry.register({
    names: ['startSession'],
    handler: () => ({ id: { id: new UUID() }, timeoutMinutes: new Int32(30) }),
  });
  registry.register({ names: ['whatsmyuri'], handler: (ctx) => ({ you: ctx.conn.remote }) });
  registry.register({
    names: ['getLog'],
    adminOnly: true,
    handler: (ctx) => {
      const which = ctx.body.getLog;
      if (which === '*') return { names: ['global', 'startupWarnings'] };
      if (which === 'global' || which === 'startupWarnings') {
        const r = ctx.node.log.getLog(which);
        return { totalLinesWritten: new Int32(r.totalLinesWritten), log: r.log };
      }
      throw new CommandError(ErrorCode.BadValue, `no RamLog named: ${String(which)}`);
    },
  });
  registry.register({
    names: ['logRotate'],
    adminOnly: true,
    handler: (ctx) => {
      ctx.node.log.rotate();
      return {};
    },
  });
  registry.register({ names: ['shutdown'], adminOnly: true, handler: shutdown });
  registry.register({ names: ['currentOp'], adminOnly: true, handler: () => ({ inprog: [] }) });
  registry.register({
    names: ['configureFailPoint'],
    adminOnly: true,
    testOnly: true,
    handler: configureFailPoint,
  });
  registry.register({
    names: ['getFreeMonitoringStatus'],
    program: 'mongod',
    adminOnly: true,
    handler: () => ({ state: 'undecided' }),
  });
  registry.register({
    names: ['isdbgrid'],
    program: 'mongos',
    handler: () => ({ isdbgrid: new Int32(1), hostname: hostname() }),
  });
  registry.register({
    names: ['features'],
    handler: (ctx) => ({
      js: true,
      oidMachine: new Int32(0),
      maxWireVersion: new Int32(maxWireVersion(ctx.node.version)),
    }),
  });
}
