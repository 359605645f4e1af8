// The shape of meta.yaml, checked by zod on every read: a meta that fails it never lets a plan run (a hand
// edit such as `port: abc` must not reach a stop step). Version 2 keeps the user's topology as written
// (`spec`, with allocated ports pinned) beside the resolved one, which is what edit-config and scale-out
// work from; version 1 metas are migrated on read (migrations.ts).
import { z } from 'zod';
import { topologySchema } from '../topology/schema.js';

const role = z.enum(['mongod', 'config', 'mongos']);

const memberOptions = z.object({
  priority: z.number(),
  votes: z.number().int(),
  hidden: z.boolean(),
  arbiterOnly: z.boolean(),
  secondaryDelaySecs: z.number().int(),
  buildIndexes: z.boolean(),
  tags: z.record(z.string(), z.string()),
});

const absolutePath = z.string().startsWith('/');

const instance = z.object({
  id: z.string().min(1),
  role,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  portAllocated: z.boolean(),
  local: z.boolean(),
  replicaSet: z.string().min(1).optional(),
  member: memberOptions.optional(),
  programName: z.string().regex(/^(mongod|config|mongos)-\d+$/),
  deployDir: absolutePath,
  dataDir: absolutePath.optional(),
  logDir: absolutePath,
  configDir: absolutePath,
  configFile: absolutePath,
  logFile: absolutePath,
  outputFile: absolutePath,
  pidFile: absolutePath,
  binDir: absolutePath,
  serverConfig: z.record(z.string(), z.unknown()),
});

const replicaSet = z.object({
  name: z.string().min(1),
  purpose: z.enum(['replset', 'shard', 'config']),
  members: z.array(z.string()).min(1),
  initiator: z.string(),
  settings: z.record(z.string(), z.unknown()),
});

const host = z.object({
  host: z.string().min(1),
  local: z.boolean(),
  user: z.string(),
  sshPort: z.number().int().min(1).max(65535),
  supervisorDir: absolutePath,
});

export const resolvedTopologySchema = z.object({
  kind: z.enum(['standalone', 'replset', 'sharded']),
  instances: z.array(instance).min(1),
  replicaSets: z.array(replicaSet),
  hosts: z.array(host).min(1),
});

export const supervisorEndpointSchema = z.object({
  host: z.string().min(1),
  httpPort: z.number().int().min(1).max(65535),
  configFile: absolutePath,
});

/** Where each host keeps the cluster's keyFile, and the user mup authenticates as (auth clusters only). */
const security = z.object({
  adminUser: z.string().min(1),
  keyFiles: z.array(z.object({ host: z.string().min(1), path: absolutePath })).min(1),
});

export const clusterStatusSchema = z.enum(['deploying', 'running', 'stopped', 'partial', 'destroying']);

export const metaSchemaV2 = z.object({
  schemaVersion: z.literal(2),
  name: z.string().min(1),
  version: z.string().min(1),
  variant: z.enum(['mongodb', 'percona', 'simulator']),
  /** The desired state the last operation set (running / stopped / ...); display shows the live state apart. */
  status: clusterStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  binaryDir: absolutePath,
  /** The topology as the user wrote it, with allocated ports pinned. */
  spec: topologySchema,
  topology: resolvedTopologySchema,
  supervisors: z.array(supervisorEndpointSchema).min(1),
  /** Clusters deployed before auth existed have none: they stay open, as they were deployed. */
  auth: z.boolean().default(false),
  security: security.optional(),
  /** TLS required on every port, with the cluster CA and host certificates under secrets/tls/. */
  tls: z.boolean().optional(),
  playground: z.boolean().optional(),
  /**
   * Set by edit-config: the resolved topology the processes run with, while `spec`/`topology` hold the edited
   * one. `cluster reload` applies the difference and drops it.
   */
  pending: z.object({ since: z.string(), applied: resolvedTopologySchema }).optional(),
  /** Deploy registered each host's supervisord with the host's init (systemd unit or @reboot crontab entry). */
  bootStart: z.boolean().optional(),
});

/** Version 1: the same without `spec`. */
export const metaSchemaV1 = metaSchemaV2.omit({ spec: true, schemaVersion: true, pending: true }).extend({
  schemaVersion: z.literal(1),
});
