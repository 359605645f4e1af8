// Text of `mup topology validate`: the topology fully resolved.
import type { ResolvedTopology } from '../../topology/types.js';
import { renderTable } from '../table.js';

export function renderResolved(topology: ResolvedTopology): string {
  const hosts = topology.hosts.length === 1 ? '1 host' : `${topology.hosts.length} hosts`;
  const count = topology.instances.length === 1 ? '1 instance' : `${topology.instances.length} instances`;
  const lines = [`Topology: ${topology.kind}, ${count} on ${hosts}`];
  const sets = topology.replicaSets.map(
    (set) => `${set.name} (${set.purpose}, ${set.members.length} members)`,
  );
  if (sets.length > 0) lines.push(`Replica sets: ${sets.join(', ')}`);
  lines.push('');
  lines.push(
    renderTable(
      ['ID', 'Role', 'Replica set', 'Host', 'Port', 'Data dir', 'Log dir', 'Config file'],
      topology.instances.map((i) => [
        i.id,
        i.role,
        i.replicaSet ?? '-',
        i.host,
        i.portAllocated ? `${i.port} (allocated)` : i.port,
        i.dataDir ?? '-',
        i.logDir,
        i.configFile,
      ]),
    ),
  );
  const supervisor = topology.hosts.map((h) => `${h.host}: ${h.supervisorDir}`);
  lines.push('', `Supervisor dirs: ${supervisor.join(', ')}`);
  return lines.join('\n');
}
