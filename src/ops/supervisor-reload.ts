// `mup cluster supervisor reload`: re-render supervisor.ini on every host and apply it; only added or changed
// programs are touched, never an unchanged one.
import { z } from 'zod';
import { applySupervisorConfig } from '../supervisor/apply.js';
import { programRefFor } from '../supervisor/instance-refs.js';
import { defineOperation } from './operation.js';
import { renderSupervisorIniForHost } from './steps/supervisord.js';

interface HostReload {
  host: string;
  added: string[];
  changed: string[];
  removed: string[];
  daemonSettingsChanged: boolean;
}

export const supervisorReloadOperation = defineOperation({
  name: 'supervisor-reload',
  args: z.object({}),
  plan: (rt) => {
    const hosts: HostReload[] = [];
    return {
      operation: 'supervisor-reload',
      cluster: rt.meta.name,
      phases: [
        {
          name: 'reload',
          title: 'Reload supervisord configuration',
          parallel: false,
          steps: rt.meta.supervisors.map((endpoint) => ({
            id: `supervisor-reload:${endpoint.host}`,
            title: `reload supervisor.ini on ${endpoint.host}`,
            host: endpoint.host,
            run: async () => {
              const programs = new Map(
                rt.instancesOn(endpoint.host).map((i) => [i.programName, programRefFor(i)]),
              );
              const result = await applySupervisorConfig(
                rt.daemon(endpoint.host),
                await renderSupervisorIniForHost(rt, endpoint.host),
                { programs },
              );
              hosts.push({ host: endpoint.host, ...result });
              return `added ${result.added.length}, changed ${result.changed.length}, removed ${result.removed.length}`;
            },
          })),
        },
      ],
      report: () => ({ hosts }),
    };
  },
});
