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
