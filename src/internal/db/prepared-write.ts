import type { Transaction } from 'kysely';
import type { ActorContext } from '../context.js';
import type { Database } from './database.js';

/**
 * A change a module has checked and normalised, every read done, waiting to be written in a transaction the caller
 * opens: several modules' changes (a rights correction touching an account, orders and contacts) commit together.
 */
export interface PreparedWrite {
  /** The columns it changes (names only: what the audit and the corrections record keep). */
  readonly fields: readonly string[];
  write(trx: Transaction<Database>, ctx: ActorContext): Promise<void>;
  /** After the commit: e.g. delivers a notice queued by the write. */
  afterCommit?(): void;
}
