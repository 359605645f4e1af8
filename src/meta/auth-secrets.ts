// The secrets of a cluster with auth: its keyFile (internal authentication between members) and the admin
// user's password. Generated once at deploy, stored by the cluster store under secrets/ (0600 files).
import { randomBytes } from 'node:crypto';

export interface AuthSecrets {
  /** keyFile content: base64 characters only, as mongod requires (6 to 1024 of them). */
  keyFile: string;
  adminPassword: string;
}

/** The admin user mup creates on a cluster with auth. */
export const ADMIN_USER = 'mup-admin';

/** 567 random bytes are 756 base64 characters without padding: the key length MongoDB's manual uses. */
const KEY_BYTES = 567;

export function generateAuthSecrets(random: (size: number) => Buffer = randomBytes): AuthSecrets {
  return {
    keyFile: random(KEY_BYTES).toString('base64'),
    // base64url: nothing that needs escaping in a connection string or a shell.
    adminPassword: random(24).toString('base64url'),
  };
}
