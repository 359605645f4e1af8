// `mup cluster ...`: one file per verb beside this one; each loads its operation lazily.
import type { Command } from '@commander-js/extra-typings';
import { registerAudit } from './audit.js';
import { registerCheck } from './check.js';
import { registerConnect } from './connect.js';
import { registerCredentials } from './credentials.js';
import { registerDeploy } from './deploy.js';
import { registerDestroy } from './destroy.js';
import { registerDisplay } from './display.js';
import { registerEditConfig } from './edit-config.js';
import { registerExec } from './exec.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { registerReload } from './reload.js';
import { registerRestart } from './restart.js';
import { registerResume } from './resume.js';
import { registerScaleIn, registerScaleOut } from './scale.js';
import { registerShowConfig } from './show-config.js';
import { registerStart } from './start.js';
import { registerStop } from './stop.js';
import { registerSupervisor } from './supervisor.js';
import { registerUpgrade } from './upgrade.js';

export function registerClusterCommands(program: Command<[], Record<string, unknown>>): void {
  const cluster = program.command('cluster').description('deploy and operate clusters') as unknown as Command;
  for (const register of [
    registerDeploy,
    registerStart,
    registerStop,
    registerRestart,
    registerDisplay,
    registerList,
    registerDestroy,
    registerConnect,
    registerCredentials,
    registerResume,
    registerAudit,
    registerShowConfig,
    registerEditConfig,
    registerReload,
    registerUpgrade,
    registerLogs,
    registerSupervisor,
    registerScaleOut,
    registerScaleIn,
    registerExec,
    registerCheck,
  ])
    register(cluster);
}
