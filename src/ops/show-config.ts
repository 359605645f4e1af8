// `mup cluster show-config NAME`: the topology as the user wrote it (global, server_configs, member options),
// with allocated ports pinned — what edit-config edits and scale-out adds to.
import { stringify } from 'yaml';
import { ClusterStore } from '../meta/store.js';
import type { TopologySpec } from '../topology/schema.js';

export interface ShowConfigResult {
  schemaVersion: 1;
  cluster: string;
  spec: TopologySpec;
  /** The same as topology YAML, ready to save and deploy elsewhere. */
  yaml: string;
}

export async function showConfig(home: string, name: string): Promise<ShowConfigResult> {
  const meta = await new ClusterStore(home).read(name);
  return { schemaVersion: 1, cluster: name, spec: meta.spec, yaml: stringify(meta.spec) };
}
