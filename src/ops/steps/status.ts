// Records the cluster's desired state in meta (running, stopped, partial) as an operation's last step.
import type { ClusterStatus } from '../../meta/store.js';
import type { Step } from '../../plan/types.js';
import type { ClusterRuntime } from '../runtime.js';

export function setStatusStep(rt: ClusterRuntime, status: ClusterStatus): Step {
  return {
    id: `status:${status}`,
    title: `record cluster status ${status}`,
    run: async () => {
      await record(rt, status);
      return undefined;
    },
  };
}

/**
 * After a partial start: `running` once every process of the cluster runs again (a partial stop undone by
 * partial starts), else `partial` (a stopped cluster with some processes started). Read from the daemons, so
 * it holds whatever order the selections came in; a daemon that does not answer counts as not running.
 */
export function settleStatusAfterStartStep(rt: ClusterRuntime): Step {
  return {
    id: 'status:settle',
    title: 'record cluster status (running when every process runs, else partial)',
    run: async () => {
      const hosts = [...new Set(rt.instances.map((i) => i.host))];
      const running = new Set<string>();
      for (const host of hosts) {
        const programs = await rt.programs(host).catch(() => undefined);
        const status = await programs?.status().catch(() => undefined);
        // A member just started answers before supervisord's startsecs end: STARTING counts.
        for (const info of status ?? [])
          if (info.state === 'RUNNING' || info.state === 'STARTING') running.add(`${host} ${info.name}`);
      }
      const all = rt.instances.every((i) => running.has(`${i.host} ${i.programName}`));
      await record(rt, all ? 'running' : 'partial');
      return undefined;
    },
  };
}

async function record(rt: ClusterRuntime, status: ClusterStatus): Promise<void> {
  const meta = await rt.store.read(rt.meta.name);
  await rt.store.write({ ...meta, status });
}
