// setFeatureCompatibilityVersion: admin only, targets are this binary's version or its last LTS,
// confirm:true required from 7.0 (error 7369100), unknown to 6.0 and earlier (40415).
// Source: reference/mongod-behavior.md §6.
import type { Document } from 'bson';
import { CommandError, ErrorCode } from '../errors.js';
import { fcvWriteOps, readFcv } from '../fcv.js';
import { fcvNeedsConfirm, lastLtsSeries } from '../version.js';
import { beginWrite, finishWrite } from './common.js';
import type { CommandContext, CommandRegistry } from './registry.js';

async function setFcv(ctx: CommandContext): Promise<Document> {
  const node = ctx.node;
  const target = ctx.body.setFeatureCompatibilityVersion;
  const version = node.version;
  if ('confirm' in ctx.body && !fcvNeedsConfirm(version)) {
    throw new CommandError(
      ErrorCode.IDLUnknownField,
      "BSON field 'setFeatureCompatibilityVersion.confirm' is an unknown field.",
    );
  }
  const lts = lastLtsSeries(version);
  if (typeof target !== 'string' || (target !== version.series && target !== lts)) {
    throw new CommandError(
      ErrorCode.BadValue,
      `Invalid feature compatibility version value '${String(target)}'; expected '${lts}' or '${version.series}'. See https://docs.mongodb.com/master/release-notes/${version.series}-compatibility/#feature-compatibility.`,
    );
  }
  beginWrite(ctx);
  const storage = node.requireStorage();
  const current = readFcv(storage)?.version ?? version.series;
  if (current === target) return finishWrite(ctx, {}, {});
  if (fcvNeedsConfirm(version) && ctx.body.confirm !== true) {
    const upgrading = target === version.series;
    throw new CommandError(
      ErrorCode.Location7369100,
      upgrading
        ? `Once you have upgraded to ${target}, you will not be able to downgrade FCV and binary version without support assistance. Please re-run this command with 'confirm: true' to acknowledge this and continue with the FCV upgrade.`
        : `Once you have downgraded the FCV, if you choose to downgrade the binary version, it will require support assistance. Please re-run this command with 'confirm: true' to acknowledge this and continue with the FCV downgrade.`,
    );
  }
  // Only the last LTS and this version are reachable from here, so every accepted change is one step;
  // data at an older FCV never gets this far (the binary refused to start on it, exit 62).
  const result = node.commit(fcvWriteOps(storage, { version: target }));
  node.log.info(
    'COMMAND',
    20459,
    `conn${ctx.conn.id}`,
    'Setting featureCompatibilityVersion',
    { newVersion: target },
    `setting featureCompatibilityVersion to ${target}`,
  );
  // setFeatureCompatibilityVersion waits for a majority unless the caller says otherwise.
  return finishWrite(ctx, result, {}, { w: 'majority' });
}

export function registerFcvCommands(registry: CommandRegistry): void {
  registry.register({
    names: ['setFeatureCompatibilityVersion'],
    program: 'mongod',
    adminOnly: true,
    handler: setFcv,
  });
}
