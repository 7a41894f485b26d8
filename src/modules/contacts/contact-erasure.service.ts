import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import { normaliseEmail } from '../vault/blind-index.js';
import type { ContactMailer } from './contact.js';
import * as repo from './contacts.repository.js';

const CODE_TTL_MS = 15 * 60_000;
const MAX_ATTEMPTS = 5;

const codeHash = (emailIndex: string, code: string): Buffer => createHash('sha256').update(`${emailIndex}\u0000${code}`).digest();
const invalidCode = (): AppError => new AppError('ERASURE_CODE_INVALID', 'The code is wrong or has expired; ask for a new one');

/**
 * Erasure on the invitee's own request (R-ACC-3): someone who was shared or invited proves control of the
 * address with a code sent to it, then every contact subject with that address is crypto-shredded.
 * Asking answers the same whether or not we hold the address, so nobody can probe who was invited.
 */
export class ContactErasure {
  constructor(private readonly o: { readonly db: Kysely<Database>; readonly vault: Vault; readonly audit: AuditLog; readonly mailer: ContactMailer }) {}

  async request(ctx: ActorContext, rawEmail: string): Promise<void> {
    const email = normaliseEmail(rawEmail);
    const emailIndex = this.o.vault.blindIndex('email', email);
    const ids = await repo.idsByEmailIndex(this.o.db, emailIndex);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    // Nothing is sent to an address we do not hold: that would make this route a way to spam anyone.
    if (ids.length === 0) return;
    await this.o.db.transaction().execute(async (trx) => {
      // Failed attempts carry over to a new code while the previous one is live: asking again and again
      // must not buy more guesses (at most MAX_ATTEMPTS per CODE_TTL_MS per address).
      await repo.putErasureCode(trx, { email_index: emailIndex, code_hash: codeHash(emailIndex, code).toString('hex'), expires_at: new Date(Date.now() + CODE_TTL_MS).toISOString() }, new Date().toISOString());
      // Encrypted under one of the contact subjects' keys: shredding them also seals the queued mail.
      await this.o.mailer.enqueue(trx, {
        subjectId: ids[0]!.subject_id,
        purpose: 'subject_rights',
        kind: 'contact_erasure_code',
        message: { to: email, subject: 'Your erasure code', text: `Someone shared your contact details with a Smartmi user. To have them erased, enter this code: ${code}\nIt is valid for 15 minutes.` },
      });
      await this.o.audit.append(trx, ctx, { action: 'contacts.erasure_requested', details: { contacts: ids.length } });
    });
    this.o.mailer.kick();
  }

  /** Checks the code (constant time, limited attempts) and shreds every contact with the address. */
  async confirm(ctx: ActorContext, rawEmail: string, code: string): Promise<{ erased: number }> {
    const emailIndex = this.o.vault.blindIndex('email', normaliseEmail(rawEmail));
    // The attempt is used up before the comparison, in one statement: parallel guesses cannot share one attempt.
    const row = await repo.takeErasureAttempt(this.o.db, emailIndex, new Date().toISOString(), MAX_ATTEMPTS);
    if (!row) throw invalidCode();
    if (!timingSafeEqual(Buffer.from(row.code_hash, 'hex'), codeHash(emailIndex, code))) throw invalidCode();
    return this.o.db.transaction().execute(async (trx) => {
      const ids = await repo.idsByEmailIndex(trx, emailIndex);
      for (const { subject_id } of ids) {
        await this.o.vault.shred(trx, ctx, subject_id);
        await repo.deleteContact(trx, subject_id);
      }
      await repo.deleteErasureCode(trx, emailIndex);
      await this.o.audit.append(trx, ctx, { action: 'contacts.erased_on_request', details: { contacts: ids.length } });
      return { erased: ids.length };
    });
  }
}
