// `mup cluster supervisor status`: the supervisord daemon of each host and every program it runs.
import { ClusterRuntime } from './runtime.js';

/** JSON shape of `mup cluster supervisor status --json` (schemaVersion 1). */
export interface SupervisorStatus {
  schemaVersion: 1;
  cluster: string;
  hosts: {
    host: string;
    endpoint: string;
    state: 'running' | 'down' | 'unreachable';
    pid?: number;
    programs: {
      name: string;
      state: string;
      pid: number;
      uptimeSeconds: number;
      exitStatus: number;
      restarts: number;
      description: string;
    }[];
  }[];
}

export async function supervisorStatus(home: string, name: string): Promise<SupervisorStatus> {
  const rt = await ClusterRuntime.load(home, name);
  try {
    const hosts = await Promise.all(
      rt.meta.supervisors.map(async (endpoint) => {
        const base = { host: endpoint.host, endpoint: `http://127.0.0.1:${endpoint.httpPort}` };
        const probe = await rt
          .daemon(endpoint.host)
          .probe()
          .catch(() => ({ kind: 'unreachable' as const }));
        if (probe.kind !== 'running')
          return {
            ...base,
            state: probe.kind === 'down' ? ('down' as const) : ('unreachable' as const),
            programs: [],
          };
        const programs = await (await rt.programs(endpoint.host)).status();
        return {
          ...base,
          state: 'running' as const,
          pid: probe.pid,
          programs: programs.map((p) => ({
            name: p.name,
            state: p.state,
            pid: p.pid,
            uptimeSeconds: p.uptimeSeconds,
            exitStatus: p.exitStatus,
            restarts: p.restarts,
            description: p.description,
          })),
        };
      }),
    );
    return { schemaVersion: 1, cluster: name, hosts };
  } finally {
    await rt.close();
  }
}
