// A cluster without access control must not listen beyond loopback unless the user said so (`--no-auth`):
// anyone who reaches the port could otherwise read and write everything.
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { expandDottedKeys, getPath } from '../render/config-tree.js';
import { bindAddresses } from '../render/sections.js';
import type { ResolvedInstance, ResolvedTopology } from '../topology/types.js';

function isLoopbackName(address: string): boolean {
  const a = address.trim().toLowerCase();
  if (a === 'localhost' || a === '::1') return true;
  return isIP(a) === 4 && a.startsWith('127.');
}

/** Why the instance listens beyond loopback (net.bindIpAll, a bindIp entry, its host address), if it does. */
export function exposedBind(instance: ResolvedInstance): string | undefined {
  const user = expandDottedKeys(instance.serverConfig).tree;
  if (getPath(user, 'net.bindIpAll') === true) return 'net.bindIpAll: true';
  const bindIp = getPath(user, 'net.bindIp') ?? bindAddresses(instance).bindIp;
  if (typeof bindIp !== 'string') return undefined;
  const open = bindIp.split(',').find((a) => a.trim() !== '' && !isLoopbackName(a));
  return open === undefined ? undefined : `bindIp ${open.trim()}`;
}

/** Exit 2 before any change when a cluster without auth would listen beyond loopback. */
export function refuseExposedWithoutAuth(topology: ResolvedTopology): void {
  const exposed = topology.instances.flatMap((i) => {
    const why = exposedBind(i);
    return why === undefined ? [] : [`${i.id} (${why})`];
  });
  if (exposed.length === 0) return;
  throw new UsageError(
    `refusing to deploy without auth on addresses beyond loopback: ${exposed.join(', ')}`,
    'keep auth on (the default), bind to loopback only, or pass --no-auth to accept an open cluster',
  );
}
