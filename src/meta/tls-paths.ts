// Where a cluster's TLS material lives in the cluster store, apart from tls.ts so that reading a path does not
// load the X.509 library.
import { join } from 'node:path';

export interface ClusterTlsPaths {
  dir: string;
  /** The CA certificate: mongod's `net.tls.CAFile`, the driver's `tlsCAFile`. */
  caFile: string;
  /** The CA's private key (PKCS#8 PEM); it never leaves the store. */
  caKeyFile: string;
  /** One host's certificate followed by its key: mongod's `net.tls.certificateKeyFile`. */
  hostFile(host: string): string;
}

export function clusterTlsPaths(secretsDir: string): ClusterTlsPaths {
  const dir = join(secretsDir, 'tls');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    // IPv6 hosts hold ':'; '_' never occurs in a valid host name (topology/hosts.ts), so names stay distinct.
    hostFile: (host) => join(dir, 'hosts', `${host.replaceAll(':', '_')}.pem`),
  };
}
