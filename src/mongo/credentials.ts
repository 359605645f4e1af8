// Who mup authenticates as. The password is kept out of every serialized form (JSON, util.inspect, error
// output), so that an address carrying credentials can be logged or put in a result without leaking it.
import { inspect } from 'node:util';

export class MongoCredentials {
  readonly #password: string;

  constructor(
    readonly username: string,
    password: string,
    /** The database the user is defined on: `admin` for the admin user, `local` for `__system`. */
    readonly source: string,
  ) {
    this.#password = password;
  }

  get password(): string {
    return this.#password;
  }

  toJSON(): { username: string; source: string } {
    return { username: this.username, source: this.source };
  }

  toString(): string {
    return `${this.username}@${this.source}`;
  }

  [inspect.custom](): string {
    return `MongoCredentials(${this.toString()})`;
  }
}

/** The user every member authenticates as to the others with the keyFile (mongod's internal user). */
export const SYSTEM_USER = '__system';

/**
 * The keyFile's identity: mongod authenticates its peers as `__system@local` with the key, whitespace
 * removed, as the password (security.keyFile, "Internal/Membership Authentication" in the MongoDB manual).
 */
export function keyFileCredentials(keyFileContent: string): MongoCredentials {
  return new MongoCredentials(SYSTEM_USER, keyFileContent.replace(/\s+/g, ''), 'local');
}
