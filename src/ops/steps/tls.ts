// Steps of a cluster with TLS: the cluster CA and host certificates made (or reused) in the cluster store on the
// control machine, then each host's certificate and the CA certificate placed on the host before any process
// starts with them. The CA's private key never leaves the store.
import { readFile } from 'node:fs/promises';
import { MupError } from '../../errors.js';
import { clusterTlsPaths } from '../../meta/tls-paths.js';
import type { Step } from '../../plan/types.js';
import { hostTlsFiles } from '../../render/context.js';
import type { ClusterRuntime } from '../runtime.js';
import { writeProcessSecretsStep } from './auth.js';

/**
 * Makes sure the store holds the cluster CA and a current certificate for every host of the topology: made
 * once, reused while valid and issued for the names the host is reached by (a scale-out onto a new host
 * issues that host's only).
 */
export function issueCertificatesStep(rt: ClusterRuntime): Step {
  return {
    id: 'tls-certificates',
    title: 'make the cluster CA and host certificates',
    run: async (context) => {
      // The X.509 library loads only for a cluster with TLS.
      const { ensureClusterTls, hostSubjectNames } = await import('../../meta/tls.js');
      const made = await ensureClusterTls(
        rt.store.secretsDir(rt.meta.name),
        rt.meta.name,
        hostSubjectNames(rt.meta.topology),
      );
      const said = (what: string, outcome: string, reason?: string) =>
        `${what} ${outcome}${reason === undefined ? '' : ` (${reason})`}`;
      context.log(said('CA', made.ca.outcome, made.ca.reason));
      for (const host of made.hosts)
        context.log(
          said(`certificate of ${host.host} [${host.names.join(', ')}]`, host.outcome, host.reason),
        );
      const fresh = made.hosts.filter((h) => h.outcome !== 'reused').length;
      return `CA ${made.ca.outcome}, ${fresh} of ${made.hosts.length} host certificates made`;
    },
  };
}

/** The cluster CA certificate and the host's certificate with its key, in the host's supervisor dir (0400). */
export function writeTlsFilesStep(rt: ClusterRuntime, host: string): Step {
  const target = hostTlsFiles(rt.host(host).supervisorDir);
  const store = clusterTlsPaths(rt.store.secretsDir(rt.meta.name));
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new MupError(`cannot read ${path}: ${(error as Error).message}`, {
        hint: 'the certificates step makes it; run the operation again (or `mup cluster resume`)',
      });
    }
  };
  return writeProcessSecretsStep(rt, host, {
    id: `tls-files:${host}`,
    title: `write the TLS certificate and CA of ${host} in ${rt.host(host).supervisorDir}`,
    files: async () => [
      { path: target.caFile, content: await read(store.caFile) },
      { path: target.certificateKeyFile, content: await read(store.hostFile(host)) },
    ],
  });
}
