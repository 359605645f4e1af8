// Strict command-line and YAML config parsing per program and version, with mongod's messages.
// Unknown or version-inappropriate options end the process with exit 2 before anything else happens.
// Sources: reference/mongod-behavior.md §5.1 (option table), §5.2 (messages, exit 2), §4.1–§4.2
// (configsvr/shardsvr/mongos rules), MongoDB manual "Configuration File Options".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document } from 'bson';
import type * as Yaml from 'yaml';
import { versionedParameterExists } from './parameters.js';
import { configDbProblem } from './sharding/connection-string.js';
import { atLeast, hasJournalOptions, type Program, type VersionInfo } from './version.js';
import { readTlsSettings, type TlsSettings } from './wire/tls.js';

type OptionType = 'int' | 'double' | 'string' | 'bool' | 'stringOrList';

interface OptionSpec {
  /** Dotted YAML key, e.g. "net.port". */
  readonly key: string;
  readonly type: OptionType;
  readonly programs?: readonly Program[];
  /** Whether this version knows the option (removed or introduced options). */
  readonly exists?: (v: VersionInfo) => boolean;
}

/** A command-line flag: either a valued option or a switch that sets a fixed YAML value. */
interface FlagSpec {
  readonly key: string;
  readonly value?: unknown;
  readonly programs?: readonly Program[];
  readonly exists?: (v: VersionInfo) => boolean;
}

const MONGOD: readonly Program[] = ['mongod'];
const MONGOS: readonly Program[] = ['mongos'];
const since =
  (major: number, minor = 0) =>
  (v: VersionInfo): boolean =>
    atLeast(v, major, minor);
const before =
  (major: number, minor = 0) =>
  (v: VersionInfo): boolean =>
    !atLeast(v, major, minor);

const OPTIONS: readonly OptionSpec[] = [
  { key: 'net.port', type: 'int' },
  { key: 'net.bindIp', type: 'string' },
  { key: 'net.bindIpAll', type: 'bool' },
  { key: 'net.ipv6', type: 'bool' },
  { key: 'net.maxIncomingConnections', type: 'int' },
  { key: 'net.wireObjectCheck', type: 'bool' },
  { key: 'net.unixDomainSocket.enabled', type: 'bool' },
  { key: 'net.unixDomainSocket.pathPrefix', type: 'string' },
  { key: 'net.unixDomainSocket.filePermissions', type: 'int' },
  { key: 'net.compression.compressors', type: 'string' },
  { key: 'net.serviceExecutor', type: 'string', exists: before(5, 0) },
  { key: 'net.ssl.mode', type: 'string' },
  { key: 'net.ssl.PEMKeyFile', type: 'string' },
  { key: 'net.ssl.CAFile', type: 'string' },
  { key: 'net.ssl.allowInvalidCertificates', type: 'bool' },
  { key: 'net.ssl.allowInvalidHostnames', type: 'bool' },
  { key: 'net.ssl.allowConnectionsWithoutCertificates', type: 'bool' },
  { key: 'net.ssl.clusterFile', type: 'string' },
  { key: 'net.tls.mode', type: 'string', exists: since(4, 2) },
  { key: 'net.tls.certificateKeyFile', type: 'string', exists: since(4, 2) },
  { key: 'net.tls.certificateKeyFilePassword', type: 'string', exists: since(4, 2) },
  { key: 'net.tls.CAFile', type: 'string', exists: since(4, 2) },
  { key: 'net.tls.clusterFile', type: 'string', exists: since(4, 2) },
  { key: 'net.tls.allowInvalidCertificates', type: 'bool', exists: since(4, 2) },
  { key: 'net.tls.allowInvalidHostnames', type: 'bool', exists: since(4, 2) },
  { key: 'net.tls.allowConnectionsWithoutCertificates', type: 'bool', exists: since(4, 2) },
  { key: 'storage.dbPath', type: 'string', programs: MONGOD },
  { key: 'storage.engine', type: 'string', programs: MONGOD },
  { key: 'storage.directoryPerDB', type: 'bool', programs: MONGOD },
  { key: 'storage.syncPeriodSecs', type: 'double', programs: MONGOD },
  { key: 'storage.journal.enabled', type: 'bool', programs: MONGOD, exists: hasJournalOptions },
  { key: 'storage.journal.commitIntervalMs', type: 'int', programs: MONGOD },
  { key: 'storage.oplogMinRetentionHours', type: 'double', programs: MONGOD, exists: since(4, 4) },
  { key: 'storage.wiredTiger.engineConfig.cacheSizeGB', type: 'double', programs: MONGOD },
  { key: 'storage.wiredTiger.engineConfig.journalCompressor', type: 'string', programs: MONGOD },
  { key: 'storage.wiredTiger.engineConfig.directoryForIndexes', type: 'bool', programs: MONGOD },
  { key: 'storage.wiredTiger.collectionConfig.blockCompressor', type: 'string', programs: MONGOD },
  { key: 'storage.wiredTiger.indexConfig.prefixCompression', type: 'bool', programs: MONGOD },
  { key: 'storage.mmapv1.smallFiles', type: 'bool', programs: MONGOD, exists: before(4, 2) },
  { key: 'storage.inMemory.engineConfig.inMemorySizeGB', type: 'double', programs: MONGOD },
  { key: 'systemLog.destination', type: 'string' },
  { key: 'systemLog.path', type: 'string' },
  { key: 'systemLog.logAppend', type: 'bool' },
  { key: 'systemLog.logRotate', type: 'string' },
  { key: 'systemLog.timeStampFormat', type: 'string' },
  { key: 'systemLog.verbosity', type: 'int' },
  { key: 'systemLog.quiet', type: 'bool' },
  { key: 'systemLog.traceAllExceptions', type: 'bool' },
  { key: 'systemLog.syslogFacility', type: 'string' },
  { key: 'processManagement.fork', type: 'bool' },
  { key: 'processManagement.pidFilePath', type: 'string' },
  { key: 'processManagement.timeZoneInfo', type: 'string' },
  { key: 'replication.replSetName', type: 'string', programs: MONGOD },
  { key: 'replication.oplogSizeMB', type: 'int', programs: MONGOD },
  { key: 'replication.enableMajorityReadConcern', type: 'bool', programs: MONGOD },
  { key: 'replication.secondaryIndexPrefetch', type: 'string', programs: MONGOD, exists: before(4, 2) },
  { key: 'replication.localPingThresholdMs', type: 'int', programs: MONGOS },
  { key: 'sharding.clusterRole', type: 'string', programs: MONGOD },
  { key: 'sharding.archiveMovedChunks', type: 'bool', programs: MONGOD },
  { key: 'sharding.configDB', type: 'string', programs: MONGOS },
  { key: 'security.keyFile', type: 'string' },
  { key: 'security.clusterAuthMode', type: 'string' },
  { key: 'security.authorization', type: 'string', programs: MONGOD },
  { key: 'security.transitionToAuth', type: 'bool' },
  { key: 'security.javascriptEnabled', type: 'bool', programs: MONGOD },
  { key: 'security.redactClientLogData', type: 'bool' },
  { key: 'security.clusterIpSourceAllowlist', type: 'stringOrList', exists: since(5, 0) },
  { key: 'operationProfiling.mode', type: 'string', programs: MONGOD },
  { key: 'operationProfiling.slowOpThresholdMs', type: 'int' },
  { key: 'operationProfiling.slowOpSampleRate', type: 'double' },
  { key: 'cloud.monitoring.free.state', type: 'string', programs: MONGOD, exists: since(4, 0) },
];

const OPTION_BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

/** Command-line flags (boost names) → YAML keys; switches carry the value they set. */
const FLAGS: Record<string, FlagSpec> = {
  port: { key: 'net.port' },
  bind_ip: { key: 'net.bindIp' },
  bind_ip_all: { key: 'net.bindIpAll', value: true },
  ipv6: { key: 'net.ipv6', value: true },
  maxConns: { key: 'net.maxIncomingConnections' },
  nounixsocket: { key: 'net.unixDomainSocket.enabled', value: false },
  unixSocketPrefix: { key: 'net.unixDomainSocket.pathPrefix' },
  networkMessageCompressors: { key: 'net.compression.compressors' },
  sslMode: { key: 'net.ssl.mode' },
  tlsMode: { key: 'net.tls.mode', exists: since(4, 2) },
  tlsCertificateKeyFile: { key: 'net.tls.certificateKeyFile', exists: since(4, 2) },
  tlsCAFile: { key: 'net.tls.CAFile', exists: since(4, 2) },
  tlsClusterFile: { key: 'net.tls.clusterFile', exists: since(4, 2) },
  tlsAllowConnectionsWithoutCertificates: {
    key: 'net.tls.allowConnectionsWithoutCertificates',
    value: true,
    exists: since(4, 2),
  },
  tlsAllowInvalidHostnames: { key: 'net.tls.allowInvalidHostnames', value: true, exists: since(4, 2) },
  tlsAllowInvalidCertificates: { key: 'net.tls.allowInvalidCertificates', value: true, exists: since(4, 2) },
  sslPEMKeyFile: { key: 'net.ssl.PEMKeyFile' },
  sslCAFile: { key: 'net.ssl.CAFile' },
  sslClusterFile: { key: 'net.ssl.clusterFile' },
  sslAllowConnectionsWithoutCertificates: { key: 'net.ssl.allowConnectionsWithoutCertificates', value: true },
  sslAllowInvalidHostnames: { key: 'net.ssl.allowInvalidHostnames', value: true },
  sslAllowInvalidCertificates: { key: 'net.ssl.allowInvalidCertificates', value: true },
  dbpath: { key: 'storage.dbPath', programs: MONGOD },
  directoryperdb: { key: 'storage.directoryPerDB', value: true, programs: MONGOD },
  storageEngine: { key: 'storage.engine', programs: MONGOD },
  syncdelay: { key: 'storage.syncPeriodSecs', programs: MONGOD },
  journal: { key: 'storage.journal.enabled', value: true, programs: MONGOD, exists: hasJournalOptions },
  nojournal: { key: 'storage.journal.enabled', value: false, programs: MONGOD, exists: hasJournalOptions },
  journalCommitInterval: { key: 'storage.journal.commitIntervalMs', programs: MONGOD },
  wiredTigerCacheSizeGB: { key: 'storage.wiredTiger.engineConfig.cacheSizeGB', programs: MONGOD },
  oplogMinRetentionHours: { key: 'storage.oplogMinRetentionHours', programs: MONGOD, exists: since(4, 4) },
  logpath: { key: 'systemLog.path' },
  logappend: { key: 'systemLog.logAppend', value: true },
  logRotate: { key: 'systemLog.logRotate' },
  timeStampFormat: { key: 'systemLog.timeStampFormat' },
  syslog: { key: 'systemLog.destination', value: 'syslog' },
  quiet: { key: 'systemLog.quiet', value: true },
  verbose: { key: 'systemLog.verbosity', value: 1 },
  fork: { key: 'processManagement.fork', value: true },
  pidfilepath: { key: 'processManagement.pidFilePath' },
  timeZoneInfo: { key: 'processManagement.timeZoneInfo' },
  replSet: { key: 'replication.replSetName', programs: MONGOD },
  oplogSize: { key: 'replication.oplogSizeMB', programs: MONGOD },
  enableMajorityReadConcern: { key: 'replication.enableMajorityReadConcern', programs: MONGOD },
  localThreshold: { key: 'replication.localPingThresholdMs', programs: MONGOS },
  configsvr: { key: 'sharding.clusterRole', value: 'configsvr', programs: MONGOD },
  shardsvr: { key: 'sharding.clusterRole', value: 'shardsvr', programs: MONGOD },
  configdb: { key: 'sharding.configDB', programs: MONGOS },
  keyFile: { key: 'security.keyFile' },
  clusterAuthMode: { key: 'security.clusterAuthMode' },
  auth: { key: 'security.authorization', value: 'enabled', programs: MONGOD },
  noauth: { key: 'security.authorization', value: 'disabled', programs: MONGOD },
  transitionToAuth: { key: 'security.transitionToAuth', value: true },
  slowms: { key: 'operationProfiling.slowOpThresholdMs' },
  profile: { key: 'operationProfiling.mode', programs: MONGOD },
};

/** Valid systemLog.component.<name>.verbosity components (any nesting of known names). */
const LOG_COMPONENTS = new Set([
  'accessControl',
  'command',
  'control',
  'ftdc',
  'geo',
  'index',
  'network',
  'query',
  'replication',
  'election',
  'heartbeats',
  'initialSync',
  'rollback',
  'recovery',
  'sharding',
  'storage',
  'journal',
  'transaction',
  'write',
  'asio',
  'bridge',
  'connectionPool',
  'tracking',
]);

/** setParameter names this simulator recognises; anything else fails global init (exit 1, §5.2). */
export const KNOWN_SET_PARAMETERS = new Set([
  'enableTestCommands',
  'enableLocalhostAuthBypass',
  'authenticationMechanisms',
  'diagnosticDataCollectionEnabled',
  'logLevel',
  'logComponentVerbosity',
  'quiet',
  'notablescan',
  'ttlMonitorEnabled',
  'cursorTimeoutMillis',
  'maxLogSizeKB',
  'scramIterationCount',
  'scramSHA256IterationCount',
  'transactionLifetimeLimitSeconds',
  'maxTransactionLockRequestTimeoutMillis',
  'replWriterThreadCount',
  'replElectionTimeoutOffsetLimitFraction',
  'numInitialSyncAttempts',
  'writePeriodicNoops',
  'periodicNoopIntervalSecs',
  'waitForSecondaryBeforeNoopWriteMS',
  'disableLogicalSessionCacheRefresh',
  'logicalSessionRefreshMillis',
  'localLogicalSessionTimeoutMinutes',
  'wiredTigerConcurrentReadTransactions',
  'wiredTigerConcurrentWriteTransactions',
  'internalQueryExecMaxBlockingSortBytes',
  'maxIndexBuildMemoryUsageMegabytes',
  'oplogFetcherUsesExhaust',
  'enableFlowControl',
  'honorSystemUmask',
  'watchdogPeriodSeconds',
  'tcmallocReleaseRate',
  'heapProfilingEnabled',
  'ShardingTaskExecutorPoolMinSize',
  'ShardingTaskExecutorPoolMaxSize',
  'connPoolMaxConnsPerHost',
  'initialSyncMethod',
  'minSnapshotHistoryWindowInSeconds',
  'allowMultipleArbiters',
]);

/** An option error: printed to stderr with the "try --help" line, then exit 2 (§5.2). */
export class OptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionsError';
  }
}

export interface ServerOptions {
  /** argv as given (after the program name), echoed by getCmdLineOpts. */
  readonly argv: string[];
  /** The merged options in YAML nesting, as getCmdLineOpts' `parsed` shows them. */
  readonly parsed: Document;
  readonly configPath?: string;
  readonly port: number;
  /** Addresses to listen on as configured (comma list split). */
  readonly bindIps: string[];
  readonly bindIpAll: boolean;
  readonly dbPath: string;
  readonly logPath?: string;
  readonly logAppend: boolean;
  readonly logUtc: boolean;
  readonly logRotate: 'rename' | 'reopen';
  readonly fork: boolean;
  readonly pidFilePath?: string;
  readonly replSetName?: string;
  readonly clusterRole?: 'configsvr' | 'shardsvr';
  readonly configDB?: string;
  readonly keyFile?: string;
  readonly authorization: boolean;
  readonly oplogSizeMB?: number;
  readonly setParameters: Record<string, string>;
  /** net.tls.* / net.ssl.* (sim/src/wire/tls.ts). */
  readonly tls: TlsSettings;
}

export type ParseOutcome =
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'run'; options: ServerOptions; unknownSetParameters: string[] };

function setPath(target: Document, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Document;
  }
  node[parts[parts.length - 1] as string] = value;
}

function getPath(source: Document, key: string): unknown {
  let node: unknown = source;
  for (const p of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Document)[p];
  }
  return node;
}

function available(
  spec: { programs?: readonly Program[]; exists?: (v: VersionInfo) => boolean },
  program: Program,
  version: VersionInfo,
): boolean {
  if (spec.programs && !spec.programs.includes(program)) return false;
  return spec.exists ? spec.exists(version) : true;
}

function convert(key: string, type: OptionType, raw: unknown, source: 'cli' | 'config'): unknown {
  const where = source === 'config' ? 'in config file' : 'on command line';
  const fail = (t: string): never => {
    throw new OptionsError(`Error parsing option "${key}" as ${t} ${where}: ${String(raw)}`);
  };
  switch (type) {
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isInteger(n)) fail('int');
      return n;
    }
    case 'double': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) fail('double');
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return fail('bool');
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      return fail('string');
    case 'stringOrList':
      if (Array.isArray(raw)) return raw.map(String);
      if (typeof raw === 'string') return raw;
      return fail('string');
  }
}

/** Walks a YAML mapping, rejecting every unknown or version-inappropriate key (§5.2). */
function readConfigTree(
  tree: Document,
  prefix: string,
  program: Program,
  version: VersionInfo,
  out: Document,
): void {
  for (const [k, value] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (key === 'setParameter') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new OptionsError(`Error parsing option "setParameter" in config file: expected a map`);
      }
      for (const [name, v] of Object.entries(value as Document)) {
        setPath(out, `setParameter.${name}`, typeof v === 'object' ? JSON.stringify(v) : String(v));
      }
      continue;
    }
    const componentMatch = /^systemLog\.component\.(.+)\.verbosity$/.exec(key);
    if (componentMatch) {
      const parts = (componentMatch[1] as string).split('.');
      if (parts.every((p) => LOG_COMPONENTS.has(p))) {
        setPath(out, key, convert(key, 'int', value, 'config'));
        continue;
      }
      throw new OptionsError(`Unrecognized option: ${key}`);
    }
    const spec = OPTION_BY_KEY.get(key);
    if (spec) {
      if (!available(spec, program, version)) throw new OptionsError(`Unrecognized option: ${key}`);
      setPath(out, key, convert(key, spec.type, value, 'config'));
      continue;
    }
    // An empty section ("net:" with nothing under it) is a YAML null: nothing to read.
    if (value === null && OPTIONS.some((o) => o.key.startsWith(`${key}.`))) continue;
    const isSection =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      (OPTIONS.some((o) => o.key.startsWith(`${key}.`)) ||
        key === 'systemLog.component' ||
        key.startsWith('systemLog.component.'));
    if (isSection) {
      readConfigTree(value as Document, key, program, version, out);
      continue;
    }
    throw new OptionsError(`Unrecognized option: ${key}`);
  }
}

function readConfigFile(path: string, program: Program, version: VersionInfo): Document {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(err);
    throw new OptionsError(`Error reading config file: ${reason}`);
  }
  // Loaded on demand (its CommonJS build loads fastest): most starts from the command line never need it.
  const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof Yaml;
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new OptionsError(
      `Error parsing YAML config file: ${doc.errors[0]?.message.split('\n')[0] ?? 'invalid YAML'}`,
    );
  }
  const tree: unknown = doc.toJS();
  if (tree === null || tree === undefined) return {};
  if (typeof tree !== 'object' || Array.isArray(tree))
    throw new OptionsError('No map found at top level of YAML config');
  const out: Document = {};
  readConfigTree(tree as Document, '', program, version, out);
  return out;
}

/** Splits "--name=value", "--name value", "-f file" into an ordered flag list, boost-style. */
function readCommandLine(
  argv: string[],
  program: Program,
  version: VersionInfo,
): { parsed: Document; configPath?: string; wantsVersion: boolean; wantsHelp: boolean } {
  const parsed: Document = {};
  let configPath: string | undefined;
  let wantsVersion = false;
  let wantsHelp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const takeValue = (name: string, inline: string | undefined): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) {
        throw new OptionsError(
          `Error parsing command line: the required argument for option '--${name}' is missing`,
        );
      }
      i++;
      return next;
    };
    if (arg === '--version') {
      wantsVersion = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      wantsHelp = true;
      continue;
    }
    if (arg === '-f') {
      configPath = takeValue('config', undefined);
      continue;
    }
    if (/^-v+$/.test(arg)) {
      setPath(parsed, 'systemLog.verbosity', arg.length - 1);
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new OptionsError(
        `Error parsing command line: too many positional options have been specified on the command line`,
      );
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === 'config') {
      configPath = takeValue(name, inline);
      continue;
    }
    if (name === 'setParameter') {
      const kv = takeValue(name, inline);
      const at = kv.indexOf('=');
      if (at <= 0) throw new OptionsError(`Illegal option assignment: "${kv}"`);
      setPath(parsed, `setParameter.${kv.slice(0, at)}`, kv.slice(at + 1));
      continue;
    }
    const flag = FLAGS[name];
    if (!flag || !available(flag, program, version)) {
      throw new OptionsError(`Error parsing command line: unrecognised option '--${name}'`);
    }
    if (flag.value !== undefined) {
      if (inline !== undefined) {
        throw new OptionsError(`Error parsing command line: option '--${name}' does not take any arguments`);
      }
      setPath(parsed, flag.key, flag.value);
      continue;
    }
    const spec = OPTION_BY_KEY.get(flag.key);
    const raw = takeValue(name, inline);
    setPath(parsed, flag.key, spec ? convert(flag.key, spec.type, raw, 'cli') : raw);
  }
  return { parsed, ...(configPath !== undefined ? { configPath } : {}), wantsVersion, wantsHelp };
}

/** Deep merge: command-line values override the config file's. */
function merge(base: Document, over: Document): Document {
  const out: Document = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
        ? merge(b as Document, v as Document)
        : v;
  }
  return out;
}

export function parseOptions(argv: string[], program: Program, version: VersionInfo): ParseOutcome {
  const cli = readCommandLine(argv, program, version);
  if (cli.wantsHelp) return { kind: 'help' };
  if (cli.wantsVersion) return { kind: 'version' };
  const fromFile = cli.configPath ? readConfigFile(cli.configPath, program, version) : {};
  const merged = merge(fromFile, cli.parsed);
  const parsed: Document = cli.configPath ? { config: cli.configPath, ...merged } : merged;

  const get = <T>(key: string): T | undefined => getPath(parsed, key) as T | undefined;
  const clusterRole = get<string>('sharding.clusterRole');
  if (clusterRole !== undefined && clusterRole !== 'configsvr' && clusterRole !== 'shardsvr') {
    throw new OptionsError(
      `Bad value for parameter "sharding.clusterRole": ${clusterRole} is not one of ["configsvr", "shardsvr"]`,
    );
  }
  const replSetName = get<string>('replication.replSetName');
  if (clusterRole === 'configsvr' && !replSetName) {
    throw new OptionsError(
      'BadValue: Cannot start a configsvr as a standalone server. Please use the option --replSet to start the node as a replica set.',
    );
  }
  if (clusterRole === 'shardsvr' && !replSetName && atLeast(version, 5, 0)) {
    throw new OptionsError(
      'BadValue: Cannot start a shardsvr as a standalone server. Please use the option --replset to start the node as a replica set.',
    );
  }
  const destination = get<string>('systemLog.destination');
  const logPath = get<string>('systemLog.path');
  if (destination !== undefined && destination !== 'file' && destination !== 'syslog') {
    throw new OptionsError(`BadValue: bad value for systemLog.destination: ${destination}`);
  }
  if (destination === 'file' && !logPath) {
    throw new OptionsError('BadValue: systemLog.path is required if systemLog.destination is to a file');
  }
  if (destination === 'syslog' && logPath) {
    throw new OptionsError('BadValue: Cant use both a logpath and syslog ');
  }
  const logRotate = get<string>('systemLog.logRotate');
  if (logRotate !== undefined && logRotate !== 'rename' && logRotate !== 'reopen') {
    throw new OptionsError(`BadValue: Unsupported value for logRotate option: ${logRotate}`);
  }
  if (logRotate === 'reopen' && get<boolean>('systemLog.logAppend') !== true) {
    throw new OptionsError('BadValue: logAppend must equal true if logRotate is set to reopen');
  }
  const fork = get<boolean>('processManagement.fork') === true;
  if (fork && !logPath && destination !== 'syslog') {
    throw new OptionsError('BadValue: --fork has to be used with --logpath or --syslog');
  }
  if (get<string>('net.bindIp') !== undefined && get<boolean>('net.bindIpAll') === true) {
    throw new OptionsError('BadValue: net.bindIp and net.bindIpAll are mutually exclusive');
  }
  const configDB = get<string>('sharding.configDB');
  if (program === 'mongos' && !configDB) {
    throw new OptionsError('BadValue: error: no args for --configdb');
  }
  const configDbError = configDB ? configDbProblem(configDB) : undefined;
  if (configDbError) throw new OptionsError(configDbError);
  const defaultPort = clusterRole === 'configsvr' ? 27019 : clusterRole === 'shardsvr' ? 27018 : 27017;
  const port = get<number>('net.port') ?? defaultPort;
  if (port < 0 || port > 65535) throw new OptionsError(`BadValue: port number ${port} is out of range`);
  const setParameters = (get<Document>('setParameter') ?? {}) as Record<string, string>;
  const unknownSetParameters = Object.keys(setParameters).filter(
    (k) => !KNOWN_SET_PARAMETERS.has(k) && !versionedParameterExists(k, program, version),
  );
  const bindIp = get<string>('net.bindIp') ?? 'localhost';
  const auth = get<string>('security.authorization');
  const keyFile = get<string>('security.keyFile');
  const tls = readTlsSettings((key) => get<unknown>(key), version);
  if ('error' in tls) throw new OptionsError(tls.error);
  const options: ServerOptions = {
    argv,
    parsed,
    ...(cli.configPath ? { configPath: cli.configPath } : {}),
    port,
    bindIps: bindIp
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    bindIpAll: get<boolean>('net.bindIpAll') === true,
    dbPath: get<string>('storage.dbPath') ?? (clusterRole === 'configsvr' ? '/data/configdb' : '/data/db'),
    ...(logPath && destination !== 'syslog' ? { logPath } : {}),
    logAppend: get<boolean>('systemLog.logAppend') === true,
    logUtc: get<string>('systemLog.timeStampFormat') === 'iso8601-utc',
    logRotate: get<string>('systemLog.logRotate') === 'reopen' ? 'reopen' : 'rename',
    fork,
    ...(get<string>('processManagement.pidFilePath')
      ? { pidFilePath: get<string>('processManagement.pidFilePath') as string }
      : {}),
    ...(replSetName ? { replSetName } : {}),
    ...(clusterRole ? { clusterRole } : {}),
    ...(configDB ? { configDB } : {}),
    ...(keyFile ? { keyFile } : {}),
    authorization: auth === 'enabled' || (keyFile !== undefined && auth !== 'disabled'),
    ...(get<number>('replication.oplogSizeMB') !== undefined
      ? { oplogSizeMB: get<number>('replication.oplogSizeMB') as number }
      : {}),
    setParameters,
    tls,
  };
  return { kind: 'run', options, unknownSetParameters };
}
