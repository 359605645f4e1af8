// Shape of the topology file, checked by zod. Every object is strict: an unknown key is an
// error, never silently ignored. Messages that carry a rule name end with "(rule)"; the generic ones are
// worded by issues.ts. Cross-field rules (replica-set limits, sharding) live in rules.ts.
import { z } from 'zod';
import { hostProblem } from './hosts.js';
import { describeValue } from './issues.js';

/** An integer field; zod's own message for `"27017"` would say "number". */
const int = () =>
  z.int({
    error: (issue) =>
      issue.input === undefined
        ? 'is required (required key)'
        : `must be an integer, got ${describeValue(issue.input)} (type)`,
  });

const PORT_RULE = 'must be between 1 and 65535, or 0 to allocate a free port (port range)';
const SSH_PORT_RULE = 'must be between 1 and 65535 (port range)';
// MongoDB: priority is a double in 0..1000 (member_config.idl).
const PRIORITY_RULE = 'must be between 0 and 1000 (member priority range)';
// MongoDB: votes is 0 or 1 since 3.0.
const VOTES_RULE = 'must be 0 or 1 (member votes)';
// MongoDB: secondaryDelaySecs must be within 0..31622400 (one year and a bit).
const DELAY_RULE = 'must be between 0 and 31622400 (secondary delay range)';

const nonEmpty = z.string().min(1, { error: 'must not be empty (non-empty string)' });

const host = nonEmpty.superRefine((name, context) => {
  const problem = hostProblem(name);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: name });
});

const port = int().min(0, { error: PORT_RULE }).max(65535, { error: PORT_RULE });

/** A mongod/mongos config fragment: YAML mapping, dotted keys allowed (`storage.wiredTiger...: 1`). */
export const serverConfigSchema = z.record(z.string(), z.unknown());

const dirs = {
  deploy_dir: nonEmpty.optional(),
  data_dir: nonEmpty.optional(),
  log_dir: nonEmpty.optional(),
  config_dir: nonEmpty.optional(),
};

const memberOptions = {
  priority: z.number().min(0, { error: PRIORITY_RULE }).max(1000, { error: PRIORITY_RULE }).optional(),
  votes: int().min(0, { error: VOTES_RULE }).max(1, { error: VOTES_RULE }).optional(),
  hidden: z.boolean().optional(),
  arbiter_only: z.boolean().optional(),
  secondary_delay_secs: int().min(0, { error: DELAY_RULE }).max(31_622_400, { error: DELAY_RULE }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  build_indexes: z.boolean().optional(),
};

export const mongodServerSchema = z.strictObject({
  host,
  port,
  replica_set: nonEmpty.optional(),
  ...memberOptions,
  ...dirs,
  config: serverConfigSchema.optional(),
});

/** Config servers take the same member options as mongod servers; rules.ts rejects the ones MongoDB forbids. */
export const configServerSchema = mongodServerSchema;

export const mongosServerSchema = z.strictObject({
  host,
  port,
  deploy_dir: dirs.deploy_dir,
  log_dir: dirs.log_dir,
  config_dir: dirs.config_dir,
  config: serverConfigSchema.optional(),
});

const positiveInt = (what: string) => int().min(1, { error: `must be a positive integer (${what})` });
const timeoutOrMinusOne = (what: string) =>
  int().min(-1, { error: `must be -1 (no limit), 0 or a positive integer (${what})` });

/** The `settings` document of replSetInitiate (MongoDB repl_set_config.idl). */
export const replicaSetSettingsSchema = z.strictObject({
  chainingAllowed: z.boolean().optional(),
  heartbeatIntervalMillis: positiveInt('heartbeatIntervalMillis').optional(),
  heartbeatTimeoutSecs: positiveInt('heartbeatTimeoutSecs').optional(),
  electionTimeoutMillis: positiveInt('electionTimeoutMillis').optional(),
  catchUpTimeoutMillis: timeoutOrMinusOne('catchUpTimeoutMillis').optional(),
  catchUpTakeoverDelayMillis: timeoutOrMinusOne('catchUpTakeoverDelayMillis').optional(),
  getLastErrorModes: z
    .record(z.string(), z.record(z.string(), positiveInt('write concern mode count')))
    .optional(),
  getLastErrorDefaults: z
    .strictObject({
      w: z.union([int().min(0), z.string().min(1)]).optional(),
      wtimeout: int().min(0).optional(),
      j: z.boolean().optional(),
      fsync: z.boolean().optional(),
    })
    .optional(),
  // A field of the config document beside `settings`; mup places it there (mongo/replset.ts).
  writeConcernMajorityJournalDefault: z.boolean().optional(),
  // Accepted by the schema only so that rules.ts can say why it is refused.
  replicaSetId: z.unknown().optional(),
});

export const globalSchema = z.strictObject({
  user: nonEmpty.optional(),
  /** TLS on every port with a cluster CA and per-host certificates made by mup (as `cluster deploy --tls`). */
  tls: z.boolean().optional(),
  ssh_port: int().min(1, { error: SSH_PORT_RULE }).max(65535, { error: SSH_PORT_RULE }).optional(),
  ...dirs,
});

export const topologySchema = z.strictObject({
  global: globalSchema.optional(),
  server_configs: z
    .strictObject({
      mongod: serverConfigSchema.optional(),
      mongos: serverConfigSchema.optional(),
    })
    .optional(),
  replica_set_settings: z.record(z.string(), replicaSetSettingsSchema).optional(),
  config_servers: z.array(configServerSchema).optional(),
  mongod_servers: z.array(mongodServerSchema).optional(),
  mongos_servers: z.array(mongosServerSchema).optional(),
});

/** The topology file as written, after schema checks (defaults not applied yet). */
export type TopologySpec = z.infer<typeof topologySchema>;
export type MongodServerSpec = z.infer<typeof mongodServerSchema>;
export type MongosServerSpec = z.infer<typeof mongosServerSchema>;
export type ReplicaSetSettingsSpec = z.infer<typeof replicaSetSettingsSchema>;
export type GlobalSpec = z.infer<typeof globalSchema>;
