// The host's hard open-file limit, which caps supervisord's `minfds` (a higher value makes it exit 2).
import type { Executor } from '../hosts/executor.js';
import { chooseMinfds } from '../render/supervisor-ini.js';

export async function readHardFileLimit(executor: Executor): Promise<number | 'unlimited'> {
  const result = await executor.run('/bin/sh', ['-c', 'ulimit -Hn'], { timeoutMs: 10_000 });
  const text = result.stdout.trim();
  if (result.exitCode === 0 && text === 'unlimited') return 'unlimited';
  const limit = Number(text);
  // Unknown: assume the common Linux default hard limit rather than failing the deploy over it.
  return result.exitCode === 0 && Number.isInteger(limit) && limit > 0 ? limit : 4096;
}

/** minfds for this host's supervisor.ini: MongoDB's recommended 64000, or the hard limit when lower. */
export async function minfdsForHost(executor: Executor): Promise<number> {
  return chooseMinfds(await readHardFileLimit(executor));
}
