// The config-file sections that mongod and mongos share, as typed objects. Field names are MongoDB's own
// YAML option names (https://www.mongodb.com/docs/manual/reference/configuration-options/), so the objects serialize as they are.
import { isIP } from 'node:net';
import type { ResolvedInstance } from '../topology/types.js';
import type { ConfigProblem } from './config-problems.js';
import type { SecuritySettings, TlsMode, TlsSettings } from './context.js';
import { isAtLeast, type MongoVersion } from './mongo-version.js';

export interface SystemLogSection {
  destination: 'file';
  path: string;
  logAppend: true;
}

export interface ProcessManagementSection {
  fork: false;
  pidFilePath: string;
}

export interface NetTlsSection {
  mode: TlsMode;
  certificateKeyFile: string;
  CAFile: string;
  allowConnectionsWithoutCertificates?: true;
}

export type SslMode = 'disabled' | 'allowSSL' | 'preferSSL' | 'requireSSL';

export interface NetSslSection {
  mode: SslMode;
  PEMKeyFile: string;
  CAFile: string;
  allowConnectionsWithoutCertificates?: true;
}

export interface NetSection {
  port: number;
  bindIp: string;
  ipv6?: true;
  tls?: NetTlsSection;
  ssl?: NetSslSection;
}

export interface SecuritySection {
  keyFile?: string;
  authorization?: 'enabled';
}

/**
 * MongoDB's own log goes to the instance's log file (unset `destination` would mean stdout, which supervisord
 * only captures into <program>.out). `logAppend: true` because otherwise every start renames the existing
 * file to `<path>.<timestamp>` (log id 20697), and supervisord restarts would pile those up.
 */
export function systemLogSection(instance: ResolvedInstance): SystemLogSection {
  return { destination: 'file', path: instance.logFile, logAppend: true };
}

/**
 * supervisord must own the process it started: a forking mongod would exit right away and look dead to
 * it, so `fork` is always false. The pid file lets mup find orphans after a killed supervisord.
 */
export function processManagementSection(instance: ResolvedInstance): ProcessManagementSection {
  return { fork: false, pidFilePath: instance.pidFile };
}

const LOOPBACK_V4 = '127.0.0.1';

/**
 * Which addresses to listen on. Since 3.6 mongod listens on localhost only unless told otherwise.
 * - Always 127.0.0.1: local tools and mup's SSH tunnels (which end on the host's loopback) connect there,
 *   and the localhost exception for creating the first admin user only works over loopback.
 * - A local instance whose host is another loopback address (127.0.0.2, ::1) listens there too, since that
 *   address is what the replica set config and clients use.
 * - A remote instance also listens on its host's address, which the other members, mongos and clients use.
 *   Only that address, not bindIpAll: the process stays off interfaces the topology does not name.
 * ::1 is not added by default: on hosts with IPv6 disabled, binding it fails (exit 48), and clients that
 * resolve `localhost` to ::1 first fall back to 127.0.0.1. mongod listens on IPv6 only with `net.ipv6: true`.
 */
export function bindAddresses(instance: ResolvedInstance): { bindIp: string; ipv6: boolean } {
  const addresses = [LOOPBACK_V4];
  const hostIsAddress = isIP(instance.host) !== 0;
  // A local host named `localhost` is served by 127.0.0.1; a remote name is resolved by mongod at startup.
  if (instance.host !== LOOPBACK_V4 && (hostIsAddress || !instance.local)) addresses.push(instance.host);
  return { bindIp: addresses.join(','), ipv6: isIP(instance.host) === 6 };
}

export function netSection(instance: ResolvedInstance, version: MongoVersion, tls?: TlsSettings): NetSection {
  const { bindIp, ipv6 } = bindAddresses(instance);
  const net: NetSection = { port: instance.port, bindIp };
  if (ipv6) net.ipv6 = true;
  if (tls !== undefined) Object.assign(net, tlsOptions(tls, version));
  return net;
}

const SSL_MODE: Readonly<Record<TlsMode, SslMode>> = {
  disabled: 'disabled',
  allowTLS: 'allowSSL',
  preferTLS: 'preferSSL',
  requireTLS: 'requireSSL',
};

/** 4.2 renamed net.ssl.{mode,PEMKeyFile} to net.tls.{mode,certificateKeyFile}; before 4.2 only net.ssl exists. */
export function tlsOptions(tls: TlsSettings, version: MongoVersion): Pick<NetSection, 'tls' | 'ssl'> {
  const optional = tls.allowConnectionsWithoutCertificates === true;
  const extra = optional ? { allowConnectionsWithoutCertificates: true as const } : {};
  if (isAtLeast(version, '4.2.0')) {
    return {
      tls: { mode: tls.mode, certificateKeyFile: tls.certificateKeyFile, CAFile: tls.caFile, ...extra },
    };
  }
  return {
    ssl: { mode: SSL_MODE[tls.mode], PEMKeyFile: tls.certificateKeyFile, CAFile: tls.caFile, ...extra },
  };
}

/**
 * The TLS options mup sets on a TLS cluster, in both spellings: the one it writes must keep its value, and
 * the other must stay unset (mongod refuses an option given under both names). The server's certificate
 * comes from mup, so a selector or password of another one conflicts too.
 */
const TLS_OWNED_OPTIONS: readonly [string, string][] = [
  ['mode', 'mode'],
  ['certificateKeyFile', 'PEMKeyFile'],
  ['certificateKeyFilePassword', 'PEMKeyPassword'],
  ['certificateSelector', 'certificateSelector'],
  ['CAFile', 'CAFile'],
  ['allowConnectionsWithoutCertificates', 'allowConnectionsWithoutCertificates'],
];

export function tlsOwnedKeys(tls: TlsSettings | undefined): string[] {
  if (tls === undefined) return [];
  return TLS_OWNED_OPTIONS.flatMap(([tlsName, sslName]) => [`net.tls.${tlsName}`, `net.ssl.${sslName}`]);
}

/** An owned-option problem on a TLS option says why: the cluster's TLS is mup's. */
export function explainTlsConflict(problem: ConfigProblem): ConfigProblem {
  if (problem.code !== 'mup-owned' || !/^net\.(tls|ssl)\./.test(problem.option)) return problem;
  return {
    ...problem,
    message: problem.message.replace(
      'is managed by mup from the topology',
      'is managed by mup on a cluster with TLS (--tls or global.tls: true)',
    ),
  };
}

/**
 * keyFile authenticates members to each other (mongod and mongos); `authorization` is a mongod option
 * (mongos enforces access control through the config servers' users and refuses the option).
 */
export function securitySection(
  security: SecuritySettings | undefined,
  process: 'mongod' | 'mongos',
): SecuritySection | undefined {
  if (security === undefined) return undefined;
  const section: SecuritySection = {};
  if (security.keyFile !== undefined) section.keyFile = security.keyFile;
  if (security.authorization === true && process === 'mongod') section.authorization = 'enabled';
  return Object.keys(section).length === 0 ? undefined : section;
}
