// Every operation that changes a cluster, by the name its journal records: `mup cluster resume` looks the
// interrupted one up here. A new verb adds its spec here and nowhere else in the pipeline.
import { credentialsOperation } from './credentials.js';
import { deployOperation } from './deploy.js';
import { destroyOperation } from './destroy.js';
import { editConfigOperation } from './edit-config.js';
import type { Operation } from './operation.js';
import { reloadOperation } from './reload.js';
import { restartOperation } from './restart.js';
import { scaleInOperation } from './scale-in.js';
import { scaleOutOperation } from './scale-out.js';
import { startOperation } from './start.js';
import { stopOperation } from './stop.js';
import { supervisorProgramOperation } from './supervisor-program.js';
import { supervisorReloadOperation } from './supervisor-reload.js';
import { upgradeOperation } from './upgrade.js';

export const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  [
    deployOperation,
    startOperation,
    stopOperation,
    restartOperation,
    destroyOperation,
    supervisorProgramOperation,
    supervisorReloadOperation,
    editConfigOperation,
    reloadOperation,
    upgradeOperation,
    scaleOutOperation,
    scaleInOperation,
    credentialsOperation,
  ].map((op) => [op.name, op]),
);
