// Per-cluster credentials of the supervisord API: a random password, stored by the cluster
// store in a 0600 file and written to supervisor.ini ({SHA} for the server, clear for supervisorctl).
import { randomBytes } from 'node:crypto';

export interface SupervisorCredentials {
  username: string;
  password: string;
}

/** 32 random bytes, base64url: no characters that need escaping in the ini (`%`, `;`, blanks). */
export function generateSupervisorCredentials(
  random: (size: number) => Buffer = randomBytes,
): SupervisorCredentials {
  return { username: 'mup', password: random(32).toString('base64url') };
}
