// `mup cluster supervisor start|stop|restart NAME PROGRAM`: one program by its supervisor name, through the
// one operation path (locked, journaled, resumable, --dry-run).
import { z } from 'zod';
import { programRefFor } from '../supervisor/instance-refs.js';
import { defineOperation } from './operation.js';
import { findProgram } from './selection.js';
import { startInstance } from './steps/process.js';

export const supervisorProgramOperation = defineOperation({
  name: 'supervisor-program',
  args: z.object({ action: z.enum(['start', 'stop', 'restart']), program: z.string().min(1) }),
  validate: (meta, args) => void findProgram(meta.name, meta.topology.instances, args.program),
  plan: (rt, args) => {
    const instance = findProgram(rt.meta.name, rt.instances, args.program);
    return {
      operation: 'supervisor-program',
      cluster: rt.meta.name,
      phases: [
        {
          name: args.action,
          title: `${args.action} ${instance.programName}`,
          parallel: false,
          steps: [
            {
              id: `${args.action}:${instance.id}`,
              title: `${args.action} ${instance.programName} on ${instance.host}`,
              host: instance.host,
              run: async () => {
                if (args.action !== 'start')
                  await (await rt.programs(instance.host)).stop(programRefFor(instance));
                if (args.action !== 'stop') return startInstance(rt, instance);
                return undefined;
              },
            },
          ],
        },
      ],
      report: () => ({ program: instance.programName, action: args.action }),
    };
  },
});
