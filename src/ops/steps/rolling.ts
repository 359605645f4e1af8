// The one rolling-replace helper: a member is taken out (its primary role moved away first), something may be
// swapped while it is down (a config, a binary link), and it comes back healthy and caught up before the
// next one. Restart uses it as it is; upgrade, reload and edit-config pass their swap.
import { moveAwayPrimary, waitForMemberReady } from '../../mongo/member.js';
import type { Step, StepContext } from '../../plan/types.js';
import { orphanProbeFor, programRefFor } from '../../supervisor/instance-refs.js';
import { findOrphans } from '../../supervisor/orphans.js';
import { isRunningState } from '../../supervisor/process-info.js';
import type { ResolvedInstance } from '../../topology/types.js';
import type { ClusterRuntime } from '../runtime.js';
import { announceStop, answersHello, isOwnProcess, startInstance, stopOrphanProcess } from './process.js';
import { HEALTHY_TIMEOUT_MS } from './replica-set.js';

/** Members of the instance's replica set other than itself that can become primary. */
function electablePeers(rt: ClusterRuntime, instance: ResolvedInstance) {
  return rt.instances.filter(
    (i) =>
      i.replicaSet === instance.replicaSet &&
      i.id !== instance.id &&
      i.member &&
      !i.member.arbiterOnly &&
      i.member.priority > 0,
  );
}

/**
 * Replaces one process without losing availability: a primary first steps down and another member is
 * elected, the process stops, `swap` runs while it is down, and it starts again; a member counts as done
 * only once it is back as SECONDARY/PRIMARY and caught up. Safe to run again after a kill at any point: a
 * member an earlier attempt already stopped is not asked to step down (it cannot answer), only started.
 */
export async function replaceMemberRolling(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  context: StepContext,
  swap?: () => Promise<void>,
): Promise<string | undefined> {
  const programs = await rt.programs(instance.host);
  const ref = programRefFor(instance);
  const before = await programs.info(ref);
  if (isRunningState(before.state)) {
    await movePrimaryAway(rt, instance, context);
    announceStop(context, rt, instance);
    await programs.stop(ref);
  } else {
    // A process a killed supervisord left behind serves as this member although the daemon shows it STOPPED:
    // it is taken out like a supervised one (primary role moved away, then SIGTERM by pid and wait until it
    // has exited), so that the start below never makes a second process for the member.
    const orphans = (await findOrphans(rt.executor(instance.host), [orphanProbeFor(instance)])).filter((o) =>
      isOwnProcess(o, instance),
    );
    if (orphans.length > 0) {
      await movePrimaryAway(rt, instance, context);
      for (const orphan of orphans) await stopOrphanProcess(rt, instance, orphan.pid, {});
      context.log(`stopped unsupervised pid ${orphans.map((o) => o.pid).join(', ')}`);
    } else context.log(`was not running (${before.state}): starting it`);
  }
  await swap?.();
  context.waiting(`${instance.programName} to start`);
  context.log(await startInstance(rt, instance));
  if (instance.replicaSet) {
    context.waiting(`${instance.programName} to be a healthy member of ${instance.replicaSet}, caught up`);
    return `back as ${await waitForMemberReady(rt.address(instance), HEALTHY_TIMEOUT_MS)}`;
  }
  return undefined;
}

/** A primary steps down and waits for another member to be elected, before it is taken out. */
async function movePrimaryAway(
  rt: ClusterRuntime,
  instance: ResolvedInstance,
  context: StepContext,
): Promise<void> {
  const peers = electablePeers(rt, instance);
  if (instance.replicaSet && peers.length > 0 && (await answersHello(rt, instance))) {
    context.waiting(`${instance.programName} to hand its primary role over, if it has it`);
    const elected = await moveAwayPrimary(
      rt.address(instance),
      peers.map((peer) => rt.address(peer)),
      HEALTHY_TIMEOUT_MS,
    );
    if (elected) context.log(`stepped down; ${elected} is primary`);
  }
}

/** One member of a rolling restart (secondaries first, the primary last; mongos one at a time). */
export function restartMemberStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `restart:${instance.id}`,
    title: `restart ${instance.programName} on ${instance.host}`,
    host: instance.host,
    run: (context) => replaceMemberRolling(rt, instance, context),
  };
}

/**
 * Hands one member a killed supervisord left running back to the new daemon, in rolling order: taken out
 * cleanly (a primary after a stepDown) and started under supervisord, healthy and caught up before the next.
 * A member an earlier, interrupted attempt already handed back is only waited for.
 */
export function adoptMemberStep(rt: ClusterRuntime, instance: ResolvedInstance): Step {
  return {
    id: `adopt:${instance.id}`,
    title: `hand ${instance.programName} on ${instance.host} back to supervisord`,
    host: instance.host,
    run: async (context) => {
      const programs = await rt.programs(instance.host);
      const info = await programs.info(programRefFor(instance));
      if (!isRunningState(info.state)) return replaceMemberRolling(rt, instance, context);
      context.log(`already run by supervisord (pid ${info.pid})`);
      if (instance.replicaSet)
        return `back as ${await waitForMemberReady(rt.address(instance), HEALTHY_TIMEOUT_MS)}`;
      return undefined;
    },
  };
}
