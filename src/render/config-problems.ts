// Problems found in a user's server config (server_configs + per-instance `config`) for one process.
// Validation collects them before deploying; rendering refuses to write a file while any remains, because
// mongod/mongos would exit 2 on it, or because mup would have to override the user silently.
import { UsageError } from '../errors.js';

export type ConfigProblemCode =
  /** The option does not exist yet in the target version. */
  | 'not-yet-available'
  /** The option was removed before the target version. */
  | 'removed'
  /** The option exists, but the target version refuses this value. */
  | 'rejected-value'
  /** The process does not know the option at all (a typo, or an Enterprise-only option). */
  | 'unknown-option'
  /** The option belongs to the other process kind (mongod vs mongos). */
  | 'wrong-process'
  /** The option is set by mup from the topology and the user's value differs. */
  | 'mup-owned'
  /** A section is given as a value, or a value as a section, where the other is expected. */
  | 'type-mismatch'
  /** The same option is given twice (dotted and nested) with different values. */
  | 'duplicate-key';

export interface ConfigProblem {
  code: ConfigProblemCode;
  /** Dotted option path, e.g. `storage.journal.enabled`. */
  option: string;
  /** One sentence naming the option, the version or rule, and why. */
  message: string;
}

export class ServerConfigError extends UsageError {
  readonly instanceId: string;
  readonly problems: readonly ConfigProblem[];

  constructor(instanceId: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.option}: ${p.message}`);
    super(
      `cannot render the config of ${instanceId}:\n${lines.join('\n')}`,
      'change server_configs or the instance `config` in the topology file, then retry',
    );
    this.instanceId = instanceId;
    this.problems = problems;
  }
}

/** A config this renderer cannot produce because the instance itself is inconsistent (a topology bug). */
export class InstanceRenderError extends UsageError {
  constructor(instanceId: string, why: string) {
    super(
      `cannot render the config of ${instanceId}: ${why}`,
      'run `mup topology validate` on the topology file',
    );
  }
}
