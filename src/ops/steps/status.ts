// Records the cluster's desired state in meta (running, stopped, partial) as an operation's last step.
import type { ClusterStatus } from '../../meta/store.js';
import type { Step } from '../../plan/types.js';
import type { ClusterRuntime } from '../runtime.js';

export function setStatusStep(rt: ClusterRuntime, status: ClusterStatus): Step {
  return {
    id: `status:${status}`,
    title: `record cluster status ${status}`,
    run: async () => {
      const meta = await rt.store.read(rt.meta.name);
      await rt.store.write({ ...meta, status });
      return undefined;
    },
  };
}
