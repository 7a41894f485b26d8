import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { nowIso } from '../../internal/db/columns.js';
import { errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import { userSubject } from '../orders/orders.service.js';
import { parseJweCompact } from './jwe.js';
import * as repo from './sealed.repository.js';

export interface SealedValue {
  readonly name: string;
  readonly jwe: string;
  readonly updatedAt: string;
}

/**
 * User-sealed values (R-SEC-5). The client encrypts with a key only the user holds (a passphrase-derived
 * key, a device key); the server checks the JWE syntax, stores the string (sealed once more under the
 * user's vault key, so a stolen database shows not even the JWE headers) and hands it back unchanged.
 * Nothing here, or anywhere in Pledge, holds a key that opens it.
 */
export class SealedService {
  constructor(private readonly o: { readonly db: Kysely<Database>; readonly vault: Vault; readonly audit: AuditLog }) {}

  async put(ctx: ActorContext, name: string, jwe: string): Promise<SealedValue> {
    const subjectId = userSubject(ctx);
    const header = parseJweCompact(jwe);
    const at = nowIso();
    await this.o.db.transaction().execute(async (trx) => {
      const value = await this.o.vault.encrypt(trx, subjectId, 'sealed', 'value', jwe);
      await repo.upsert(trx, { subject_id: subjectId, name, value, updated_at: at });
      // The label is the user's; the audit keeps only the algorithm names and the size.
      await this.o.audit.append(trx, ctx, { action: 'sealed.stored', subjectId, details: { alg: header.alg, enc: header.enc, length: jwe.length } });
    });
    return { name, jwe, updatedAt: at };
  }

  async get(ctx: ActorContext, name: string): Promise<SealedValue> {
    const subjectId = userSubject(ctx);
    const row = await repo.byName(this.o.db, subjectId, name);
    if (!row) throw errors.notFound('The sealed value');
    const jwe = await this.o.vault.decrypt(this.o.db, subjectId, 'sealed', 'value', Buffer.from(row.value), 'provide_service');
    return { name: row.name, jwe, updatedAt: row.updated_at };
  }

  async list(ctx: ActorContext): Promise<{ name: string; updatedAt: string }[]> {
    const rows = await repo.names(this.o.db, userSubject(ctx));
    return rows.map((r) => ({ name: r.name, updatedAt: r.updated_at }));
  }

  async remove(ctx: ActorContext, name: string): Promise<void> {
    const subjectId = userSubject(ctx);
    await this.o.db.transaction().execute(async (trx) => {
      if (!(await repo.remove(trx, subjectId, name))) throw errors.notFound('The sealed value');
      await this.o.audit.append(trx, ctx, { action: 'sealed.removed', subjectId });
    });
  }

  /** Physical purge after the owner's key was shredded (account erasure): the values no longer open anyway. */
  deleteAllFor(db: Kysely<Database> | Transaction<Database>, subjectId: string): Promise<number> {
    return repo.deleteAllFor(db, subjectId);
  }
}
