// mongod options written as on its command line (`mup playground start -- --wiredTigerCacheSizeGB 1`, as
// mlaunch and mongodb-runner take them) turned into configuration-file settings: mup runs every mongod with
// `--config`, so an option reaches it through server_configs, where mup checks it per version. The mapping
// follows the MongoDB manual's "Configuration File Settings and Command-Line Options Mapping".
import { UsageError } from '../errors.js';

type Kind = 'flag' | 'int' | 'number' | 'string';

interface ArgRule {
  path: string;
  kind: Kind;
  /** A flag's value in the configuration file (default true). */
  value?: unknown;
}

const RULES: Record<string, ArgRule> = {
  wiredTigerCacheSizeGB: { path: 'storage.wiredTiger.engineConfig.cacheSizeGB', kind: 'number' },
  wiredTigerCollectionBlockCompressor: {
    path: 'storage.wiredTiger.collectionConfig.blockCompressor',
    kind: 'string',
  },
  wiredTigerDirectoryForIndexes: {
    path: 'storage.wiredTiger.engineConfig.directoryForIndexes',
    kind: 'flag',
  },
  directoryperdb: { path: 'storage.directoryPerDB', kind: 'flag' },
  syncdelay: { path: 'storage.syncPeriodSecs', kind: 'number' },
  journalCommitInterval: { path: 'storage.journal.commitIntervalMs', kind: 'int' },
  oplogSize: { path: 'replication.oplogSizeMB', kind: 'int' },
  slowms: { path: 'operationProfiling.slowOpThresholdMs', kind: 'int' },
  slowOpSampleRate: { path: 'operationProfiling.slowOpSampleRate', kind: 'number' },
  maxConns: { path: 'net.maxIncomingConnections', kind: 'int' },
  ipv6: { path: 'net.ipv6', kind: 'flag' },
  bind_ip: { path: 'net.bindIp', kind: 'string' },
  bind_ip_all: { path: 'net.bindIpAll', kind: 'flag' },
  nounixsocket: { path: 'net.unixDomainSocket.enabled', kind: 'flag', value: false },
  quiet: { path: 'systemLog.quiet', kind: 'flag' },
  timeStampFormat: { path: 'systemLog.timeStampFormat', kind: 'string' },
  notablescan: { path: 'setParameter.notablescan', kind: 'flag' },
};

/** `--profile 0|1|2` is operationProfiling.mode off / slowOp / all. */
const PROFILE_MODES = ['off', 'slowOp', 'all'] as const;

/** Options mup sets itself: given after `--`, they would fight the rendered config. */
const OWNED = new Set([
  'port',
  'dbpath',
  'logpath',
  'config',
  'f',
  'replSet',
  'fork',
  'pidfilepath',
  'configsvr',
  'shardsvr',
  'logappend',
  'syslog',
]);

/**
 * Settings (dotted paths expanded into nested objects) for mongod options given on the command line. Refuses
 * (exit 2) an option it cannot map, a missing or malformed value and an option mup sets itself.
 */
export function mongodArgsToConfig(args: readonly string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const verbose = /^-(v+)$/.exec(arg);
    if (verbose) {
      set(config, 'systemLog.verbosity', verbose[1]?.length ?? 1);
      continue;
    }
    const match = /^--([A-Za-z_][\w]*)(?:=(.*))?$/.exec(arg);
    if (!match) throw refuse(`'${arg}' is not a mongod option`);
    const name = match[1] as string;
    const inline = match[2];
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) throw refuse(`--${name} needs a value`);
      i++;
      return next;
    };
    if (OWNED.has(name)) throw refuse(`--${name} is set by mup (from the playground's layout); leave it out`);
    if (name === 'verbose') {
      set(config, 'systemLog.verbosity', inline === undefined ? 1 : (inline.match(/v/g)?.length ?? 1));
      continue;
    }
    if (name === 'setParameter') {
      const value = takeValue();
      const eq = value.indexOf('=');
      if (eq <= 0) throw refuse(`--setParameter takes name=value, got '${value}'`);
      set(config, `setParameter.${value.slice(0, eq)}`, scalar(value.slice(eq + 1)));
      continue;
    }
    if (name === 'profile') {
      const level = Number(takeValue());
      const mode = PROFILE_MODES[level];
      if (!Number.isInteger(level) || mode === undefined) throw refuse('--profile takes 0, 1 or 2');
      set(config, 'operationProfiling.mode', mode);
      continue;
    }
    const rule = RULES[name];
    if (rule === undefined)
      throw refuse(
        `mup cannot pass --${name} to mongod`,
        `options it passes: --setParameter name=value, -v…, --profile, ${Object.keys(RULES)
          .map((k) => `--${k}`)
          .join(', ')}; any other setting goes in a topology's server_configs (mup cluster deploy)`,
      );
    if (rule.kind === 'flag') {
      if (inline !== undefined) throw refuse(`--${name} takes no value`);
      set(config, rule.path, rule.value ?? true);
      continue;
    }
    const raw = takeValue();
    const value = rule.kind === 'string' ? raw : Number(raw);
    if (
      rule.kind !== 'string' &&
      (raw.trim() === '' || !Number.isFinite(value) || (rule.kind === 'int' && !Number.isInteger(value)))
    )
      throw refuse(`--${name} takes ${rule.kind === 'int' ? 'a whole number' : 'a number'}, got '${raw}'`);
    set(config, rule.path, value);
  }
  return config;
}

function refuse(message: string, hint?: string): UsageError {
  return new UsageError(
    message,
    hint ??
      'mongod options go after `--`, e.g. mup playground start -- --wiredTigerCacheSizeGB 1 --setParameter notablescan=true',
  );
}

/** A setParameter value as mongod reads it: booleans and numbers typed, anything else a string. */
function scalar(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function set(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}
