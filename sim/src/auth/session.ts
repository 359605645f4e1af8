// Per-connection authentication state: who the connection authenticated as (one user per
// connection, as from mongod 5.0; earlier versions allowed one per database, which no driver uses),
// and the SASL conversation in progress.
import type { ScramMechanism, ScramServerConversation } from './scram.js';

export interface UserName {
  readonly user: string;
  readonly db: string;
}

export interface SaslConversation {
  readonly mechanism: ScramMechanism;
  readonly db: string;
  readonly user: string;
  readonly scram: ScramServerConversation;
  readonly skipEmptyExchange: boolean;
  /** 'proof' until the client proved its key; 'final' waits for the empty closing step. */
  step: 'proof' | 'final';
  readonly speculative: boolean;
}

export class AuthSession {
  user: UserName | undefined;
  conversation: SaslConversation | undefined;
}
