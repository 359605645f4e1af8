// What rendering needs to know about the cluster beyond the instance itself.
import type { TopologyKind } from '../topology/types.js';

/** Internal authentication and access control; rendered once mup generates keyFiles. */
export interface SecuritySettings {
  /** Absolute path of the keyFile on the instance's host. */
  keyFile?: string;
  /** Turn on access control (`security.authorization: enabled`, mongod only). */
  authorization?: boolean;
}

/** TLS mode names as 4.2+ spells them; older versions get the matching `*SSL` names. */
export type TlsMode = 'disabled' | 'allowTLS' | 'preferTLS' | 'requireTLS';

export interface TlsSettings {
  mode: TlsMode;
  /** PEM file with the certificate and its key, on the instance's host. */
  certificateKeyFile: string;
  /** PEM file with the CA that signed the members' certificates. */
  caFile: string;
  /**
   * Accept clients that present no certificate (they still verify the server's and authenticate with a
   * password); a client certificate that is presented must still be signed by the CA.
   */
  allowConnectionsWithoutCertificates?: boolean;
}

/** The TLS files mup puts on each host of a TLS cluster: beside the keyFile, in the host's supervisor dir. */
export function hostTlsFiles(supervisorDir: string): { caFile: string; certificateKeyFile: string } {
  return {
    caFile: `${supervisorDir}/${HOST_CA_FILE}`,
    certificateKeyFile: `${supervisorDir}/${HOST_CERTIFICATE_KEY_FILE}`,
  };
}

export const HOST_CA_FILE = 'tls-ca.pem';
export const HOST_CERTIFICATE_KEY_FILE = 'tls-server.pem';

/**
 * The TLS settings of a cluster deployed with TLS, for a host's processes: TLS required on every port,
 * the host's certificate, the cluster CA; clients need no certificate of their own (they authenticate with
 * SCRAM as on any auth cluster), while members present theirs to each other as real mongod does.
 */
export function clusterTlsSettings(supervisorDir: string): TlsSettings {
  return { mode: 'requireTLS', ...hostTlsFiles(supervisorDir), allowConnectionsWithoutCertificates: true };
}

export interface ClusterRenderContext {
  /** Cluster name, shown in the header so the reader knows which command changes the file. */
  clusterName: string;
  /** MongoDB version of the binaries, e.g. "7.0.14" or Percona's "7.0.14-8". */
  version: string;
  /** Decides whether a replica-set member is a shard (`clusterRole: shardsvr`). */
  topologyKind: TopologyKind;
  security?: SecuritySettings;
  tls?: TlsSettings;
}

export interface MongosRenderContext extends ClusterRenderContext {
  /** Config server replica set as `<setName>/host:port,host:port` (see configDBString). */
  configDB: string;
}

/** `sharding.configDB` for mongos: the set name, then every member (the mirrored form was removed in 3.4). */
export function configDBString(replicaSetName: string, memberIds: readonly string[]): string {
  return `${replicaSetName}/${memberIds.join(',')}`;
}
