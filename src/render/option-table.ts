// The configuration-file options mongod and mongos read, per version, as data: their type, allowed values or
// range, which process has them, and the version that added or removed them. mongod and mongos refuse any
// other key with "Unrecognized option: <dotted.key>" and exit 2 (mongod-behavior.md §5.2), so mup refuses
// it before writing anything.
//
// Sources (MongoDB manual, Community edition; Enterprise-only sections such as snmp, security.ldap,
// security.kmip and security.enableEncryption are left out because Community binaries do not know them):
//   https://www.mongodb.com/docs/manual/reference/configuration-options/            (8.0)
//   https://www.mongodb.com/docs/v7.0/reference/configuration-options/ … /docs/v3.6/… (each series)
//   https://www.mongodb.com/docs/manual/reference/configuration-file-settings-command-line-options-mapping/
//   https://www.mongodb.com/docs/manual/reference/program/mongod/  (the "Changed in version" notes:
//     5.0 removes net.serviceExecutor, 4.4 removes storage.indexBuildRetry, 4.2 adds net.tls.* and
//     net.tls.clusterCAFile, 6.1 removes storage.journal.enabled)
// Options mup writes itself (net.port, storage.dbPath, systemLog.path, ...) are listed too, so that the
// "owned" rules, not this table, decide what happens to them.

export type OptionType =
  /** true or false. */
  | 'bool'
  /** A whole number. */
  | 'int'
  /** Any number (the manual's "float" / "double"). */
  | 'double'
  | 'string'
  /** One of `values`. */
  | 'enum'
  /** A string, or a list of strings (e.g. an IP allow list). */
  | 'stringOrList'
  /** A section whose keys mup does not check (setParameter names, per-component log verbosity). */
  | 'open';

export interface OptionSpec {
  /** Dotted path in the config file. */
  path: string;
  type: OptionType;
  /** Only this process has the option; absent means both. */
  process?: 'mongod' | 'mongos';
  /** First version that has it (major.minor.patch). */
  since?: string;
  /** First version that refuses it. */
  removedIn?: string;
  /** Allowed values of an enum. */
  values?: readonly string[];
  /** Values allowed only from a version (`zstd` compression from 4.2). */
  valuesSince?: Readonly<Record<string, string>>;
  min?: number;
  max?: number;
}

const TLS_SINCE = '4.2.0';

export const OPTION_TABLE: readonly OptionSpec[] = [
  // systemLog
  { path: 'systemLog.verbosity', type: 'int', min: 0, max: 5 },
  { path: 'systemLog.quiet', type: 'bool' },
  { path: 'systemLog.traceAllExceptions', type: 'bool' },
  { path: 'systemLog.syslogFacility', type: 'string' },
  { path: 'systemLog.path', type: 'string' },
  { path: 'systemLog.logAppend', type: 'bool' },
  { path: 'systemLog.logRotate', type: 'enum', values: ['rename', 'reopen'] },
  { path: 'systemLog.destination', type: 'enum', values: ['file', 'syslog'] },
  { path: 'systemLog.timeStampFormat', type: 'enum', values: ['ctime', 'iso8601-utc', 'iso8601-local'] },
  // systemLog.component.<component>[.<sub>].verbosity: 0–5 each; the component list grows per version.
  { path: 'systemLog.component', type: 'open' },
  // processManagement
  { path: 'processManagement.fork', type: 'bool' },
  { path: 'processManagement.pidFilePath', type: 'string' },
  { path: 'processManagement.timeZoneInfo', type: 'string' },
  // cloud (free monitoring)
  {
    path: 'cloud.monitoring.free.state',
    type: 'enum',
    values: ['runtime', 'on', 'off'],
    process: 'mongod',
    since: '4.0.0',
  },
  { path: 'cloud.monitoring.free.tags', type: 'string', process: 'mongod', since: '4.0.0' },
  // net
  { path: 'net.port', type: 'int', min: 0, max: 65535 },
  { path: 'net.bindIp', type: 'string' },
  { path: 'net.bindIpAll', type: 'bool' },
  { path: 'net.maxIncomingConnections', type: 'int', min: 1 },
  { path: 'net.wireObjectCheck', type: 'bool' },
  { path: 'net.ipv6', type: 'bool' },
  { path: 'net.listenBacklog', type: 'int', min: 1, since: '3.6.0' },
  { path: 'net.unixDomainSocket.enabled', type: 'bool' },
  { path: 'net.unixDomainSocket.pathPrefix', type: 'string' },
  { path: 'net.unixDomainSocket.filePermissions', type: 'int', min: 0 },
  { path: 'net.compression.compressors', type: 'string' },
  { path: 'net.serviceExecutor', type: 'enum', values: ['synchronous', 'adaptive'], removedIn: '5.0.0' },
  {
    path: 'net.tls.mode',
    type: 'enum',
    values: ['disabled', 'allowTLS', 'preferTLS', 'requireTLS'],
    since: TLS_SINCE,
  },
  { path: 'net.tls.certificateKeyFile', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.certificateKeyFilePassword', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.certificateSelector', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.clusterCertificateSelector', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.clusterFile', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.clusterPassword', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.CAFile', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.clusterCAFile', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.CRLFile', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.allowConnectionsWithoutCertificates', type: 'bool', since: TLS_SINCE },
  { path: 'net.tls.allowInvalidCertificates', type: 'bool', since: TLS_SINCE },
  { path: 'net.tls.allowInvalidHostnames', type: 'bool', since: TLS_SINCE },
  { path: 'net.tls.disabledProtocols', type: 'string', since: TLS_SINCE },
  { path: 'net.tls.FIPSMode', type: 'bool', since: TLS_SINCE },
  { path: 'net.tls.logVersions', type: 'string', since: '4.4.0' },
  { path: 'net.tls.clusterAuthX509.attributes', type: 'string', since: '7.0.0' },
  { path: 'net.tls.clusterAuthX509.extensionValue', type: 'string', since: '7.0.0' },
  // net.ssl.* are the pre-4.2 names, still accepted (deprecated) through 8.0.
  { path: 'net.ssl.mode', type: 'enum', values: ['disabled', 'allowSSL', 'preferSSL', 'requireSSL'] },
  { path: 'net.ssl.PEMKeyFile', type: 'string' },
  { path: 'net.ssl.PEMKeyPassword', type: 'string' },
  { path: 'net.ssl.certificateSelector', type: 'string' },
  { path: 'net.ssl.clusterCertificateSelector', type: 'string' },
  { path: 'net.ssl.clusterFile', type: 'string' },
  { path: 'net.ssl.clusterPassword', type: 'string' },
  { path: 'net.ssl.CAFile', type: 'string' },
  { path: 'net.ssl.clusterCAFile', type: 'string' },
  { path: 'net.ssl.CRLFile', type: 'string' },
  { path: 'net.ssl.allowConnectionsWithoutCertificates', type: 'bool' },
  { path: 'net.ssl.allowInvalidCertificates', type: 'bool' },
  { path: 'net.ssl.allowInvalidHostnames', type: 'bool' },
  { path: 'net.ssl.disabledProtocols', type: 'string' },
  { path: 'net.ssl.FIPSMode', type: 'bool' },
  // security
  { path: 'security.keyFile', type: 'string' },
  { path: 'security.clusterAuthMode', type: 'enum', values: ['keyFile', 'sendKeyFile', 'sendX509', 'x509'] },
  { path: 'security.authorization', type: 'enum', values: ['enabled', 'disabled'], process: 'mongod' },
  { path: 'security.transitionToAuth', type: 'bool' },
  { path: 'security.javascriptEnabled', type: 'bool', process: 'mongod' },
  { path: 'security.redactClientLogData', type: 'bool' },
  { path: 'security.clusterIpSourceWhitelist', type: 'stringOrList', since: '4.4.0' },
  { path: 'security.clusterIpSourceAllowlist', type: 'stringOrList', since: '5.0.0' },
  { path: 'security.sasl.hostName', type: 'string' },
  { path: 'security.sasl.serviceName', type: 'string' },
  { path: 'security.sasl.saslauthdSocketPath', type: 'string' },
  // setParameter: server parameters by name; an unknown name makes mongod exit 1 (not 2), checked at start.
  { path: 'setParameter', type: 'open' },
  // storage (mongod only)
  { path: 'storage.dbPath', type: 'string', process: 'mongod' },
  { path: 'storage.journal.enabled', type: 'bool', process: 'mongod', removedIn: '6.1.0' },
  { path: 'storage.journal.commitIntervalMs', type: 'int', process: 'mongod', min: 1, max: 500 },
  { path: 'storage.directoryPerDB', type: 'bool', process: 'mongod' },
  { path: 'storage.syncPeriodSecs', type: 'double', process: 'mongod', min: 0 },
  { path: 'storage.engine', type: 'enum', values: ['wiredTiger', 'inMemory', 'mmapv1'], process: 'mongod' },
  { path: 'storage.indexBuildRetry', type: 'bool', process: 'mongod', removedIn: '4.4.0' },
  { path: 'storage.repairPath', type: 'string', process: 'mongod', removedIn: '4.2.0' },
  { path: 'storage.oplogMinRetentionHours', type: 'double', process: 'mongod', since: '4.4.0', min: 0 },
  // "Values can range from 0.25 GB to 10000 GB" (storage.wiredTiger.engineConfig.cacheSizeGB).
  {
    path: 'storage.wiredTiger.engineConfig.cacheSizeGB',
    type: 'double',
    process: 'mongod',
    min: 0.25,
    max: 10000,
  },
  {
    path: 'storage.wiredTiger.engineConfig.journalCompressor',
    type: 'enum',
    values: ['none', 'snappy', 'zlib', 'zstd'],
    valuesSince: { zstd: '4.2.0' },
    process: 'mongod',
  },
  { path: 'storage.wiredTiger.engineConfig.directoryForIndexes', type: 'bool', process: 'mongod' },
  {
    path: 'storage.wiredTiger.engineConfig.zstdCompressionLevel',
    type: 'int',
    process: 'mongod',
    since: '5.0.0',
    min: 1,
    max: 22,
  },
  { path: 'storage.wiredTiger.engineConfig.configString', type: 'string', process: 'mongod' },
  {
    path: 'storage.wiredTiger.collectionConfig.blockCompressor',
    type: 'enum',
    values: ['none', 'snappy', 'zlib', 'zstd'],
    valuesSince: { zstd: '4.2.0' },
    process: 'mongod',
  },
  { path: 'storage.wiredTiger.collectionConfig.configString', type: 'string', process: 'mongod' },
  { path: 'storage.wiredTiger.indexConfig.prefixCompression', type: 'bool', process: 'mongod' },
  { path: 'storage.wiredTiger.indexConfig.configString', type: 'string', process: 'mongod' },
  { path: 'storage.inMemory.engineConfig.inMemorySizeGB', type: 'double', process: 'mongod', min: 0 },
  // storage.mmapv1.* (smallFiles, nsSize, quota, ...) went with the engine in 4.2.
  { path: 'storage.mmapv1', type: 'open', process: 'mongod', removedIn: '4.2.0' },
  // operationProfiling
  { path: 'operationProfiling.mode', type: 'enum', values: ['off', 'slowOp', 'all'], process: 'mongod' },
  { path: 'operationProfiling.slowOpThresholdMs', type: 'int', min: 0 },
  { path: 'operationProfiling.slowOpSampleRate', type: 'double', min: 0, max: 1 },
  { path: 'operationProfiling.filter', type: 'string', since: '4.4.0' },
  // replication
  { path: 'replication.oplogSizeMB', type: 'int', process: 'mongod', min: 1 },
  { path: 'replication.replSetName', type: 'string', process: 'mongod' },
  { path: 'replication.enableMajorityReadConcern', type: 'bool', process: 'mongod' },
  {
    path: 'replication.secondaryIndexPrefetch',
    type: 'enum',
    values: ['none', '_id_only', 'all'],
    process: 'mongod',
    removedIn: '4.2.0',
  },
  { path: 'replication.localPingThresholdMs', type: 'int', process: 'mongos', min: 0 },
  // sharding
  { path: 'sharding.clusterRole', type: 'enum', values: ['configsvr', 'shardsvr'], process: 'mongod' },
  { path: 'sharding.archiveMovedChunks', type: 'bool', process: 'mongod' },
  { path: 'sharding.configDB', type: 'string', process: 'mongos' },
  // auditLog: Enterprise and Percona Server for MongoDB (its audit plugin reads the same section).
  { path: 'auditLog', type: 'open' },
];
