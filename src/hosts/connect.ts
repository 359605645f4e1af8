// The one place that decides how a host is reached: a local executor for this machine's names and addresses,
// a remote one for everything else. Operations ask here and never construct executors themselves.
import { MupError } from '../errors.js';
import type { Executor } from './executor.js';
import { LocalExecutor } from './local.js';

export interface HostRef {
  host: string;
  local: boolean;
}

export class RemoteHostsNotSupportedError extends MupError {
  constructor(hosts: readonly string[]) {
    super(`remote hosts are not supported yet: ${hosts.join(', ')}`, {
      hint: 'deploy on localhost / 127.0.0.x for now',
    });
  }
}

export function executorFor(host: HostRef): Executor {
  if (!host.local) throw new RemoteHostsNotSupportedError([host.host]);
  return new LocalExecutor(host.host);
}
