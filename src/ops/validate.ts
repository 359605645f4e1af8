// `mup topology validate`: every check `cluster deploy` runs that needs no remote host (same function, same
// messages and positions), then the topology fully resolved. Nothing is changed on any host.
import { executorFor } from '../hosts/connect.js';
import { localUidOf } from '../hosts/local.js';
import { checkTopology, DEFAULT_CHECK_VERSION } from '../render/topology-check.js';
import type { ResolvedTopology } from '../topology/types.js';

export async function validateTopologyFile(
  text: string,
  file: string,
  options: { version?: string | undefined; portBase: number },
): Promise<ResolvedTopology> {
  const probe = executorFor({ host: 'localhost', local: true });
  const { resolved } = await checkTopology(text, file, {
    version: options.version ?? DEFAULT_CHECK_VERSION,
    isPortFree: (port) => probe.isPortFree(port),
    portBase: options.portBase,
    uidOf: localUidOf,
  });
  return resolved;
}
