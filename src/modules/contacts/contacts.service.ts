import type { Kysely } from 'kysely';
import type { PreparedWrite } from '../../internal/db/prepared-write.js';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { errors, isAppError } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import { normaliseEmail, normalisePhone } from '../vault/blind-index.js';
import { userSubject } from '../orders/orders.service.js';
import type { ContactAddress, ContactMailer, ContactView, NewContact } from './contact.js';
import { ContactAcceptance } from './contact-acceptance.service.js';
import { invitationCodeHash, invitationMessage, newInvitationCode } from './invitation-code.js';
import type { ContactRow } from './contacts.table.js';
import * as repo from './contacts.repository.js';

/** Contact data is read only for the share or invitation it was given for (R-ACC-3). */
export const CONTACT_PURPOSE = 'share_and_invite';
/**
 * The invitation mail is the sharing service itself, which the sharer asked for under their contract; the
 * policy files the outbox message (an e-mail address) under user.contact.email, which provide_service covers.
 */
const INVITATION_MAIL_PURPOSE = 'provide_service';

export interface ContactsServiceOptions {
  readonly db: Kysely<Database>;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly policy: CompiledPolicy;
  /** The e-mail outbox: the invitation with its one-time code goes to the person shared with. */
  readonly mailer: ContactMailer;
}

/** What a correction of a shared contact changes (R-DSR-1): values already checked against `contact.input.ts`. */
export interface ContactCorrection {
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
  readonly address?: ContactAddress | undefined;
}

/**
 * Shared contacts (R-ACC-3): each is a data subject of its own with its own data key, linked to the
 * user who shared it, expired after the policy's retention unless accepted, erased by shredding its key.
 */
export class ContactsService {
  readonly retentionMs: number;
  /** Accepting an invitation with the mailed code (R-ACC-3). */
  readonly acceptance: ContactAcceptance;
  constructor(private readonly o: ContactsServiceOptions) {
    this.acceptance = new ContactAcceptance(o);
    const ms = o.policy.categories.get('user.contact.third_party')?.retentionMs;
    if (ms === undefined) throw new Error('the policy gives user.contact.third_party no fixed retention; shared contacts need one');
    this.retentionMs = ms;
  }

  async share(ctx: ActorContext, input: NewContact): Promise<ContactView> {
    const inviter = userSubject(ctx);
    const email = normaliseEmail(input.email);
    const phone = input.phone === undefined ? null : normalisePhone(input.phone);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.retentionMs).toISOString();
    const code = newInvitationCode();
    const id = await this.o.db.transaction().execute(async (trx) => {
      const contactId = await this.o.vault.createSubject(trx, ctx, 'contact');
      const sealed = await this.o.vault.encryptFields(trx, contactId, 'contacts', {
        name: input.name.trim(),
        email,
        phone,
        address: input.address ? JSON.stringify(input.address) : null,
      });
      await repo.insertContact(trx, {
        subject_id: contactId,
        inviter_subject_id: inviter,
        reason: input.reason,
        status: 'pending',
        email_index: this.o.vault.blindIndex('email', email),
        ...sealed,
        name: sealed.name!,
        email: sealed.email!,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        accepted_at: null,
        accept_code_hash: invitationCodeHash(code),
        accepted_by_subject_id: null,
      });
      // Sealed under the contact's own key: shredding the contact (expiry, erasure) also seals the queued mail.
      await this.o.mailer.enqueue(trx, { subjectId: contactId, purpose: INVITATION_MAIL_PURPOSE, kind: 'contact_invitation', message: { to: email, ...invitationMessage(input.reason, code, expiresAt) } });
      await this.o.audit.append(trx, ctx, { action: 'contacts.shared', subjectId: contactId, purpose: CONTACT_PURPOSE, details: { inviter, reason: input.reason } });
      return contactId;
    });
    this.o.mailer.kick();
    const row = await repo.byId(this.o.db, inviter, id);
    if (!row) throw errors.notFound('The contact');
    return this.open(row);
  }

  /** The contacts a user shared, opened for the share purpose only; an erased one is skipped. */
  async list(ctx: ActorContext): Promise<ContactView[]> {
    const out: ContactView[] = [];
    for (const row of await repo.listForInviter(this.o.db, userSubject(ctx))) {
      try {
        out.push(await this.open(row));
      } catch (e) {
        if (!(isAppError(e) && e.code === 'SUBJECT_ERASED')) throw e;
      }
    }
    return out;
  }

  /** The sharer withdraws a contact: its key is shredded and its row removed. */
  async remove(ctx: ActorContext, contactId: string): Promise<void> {
    const inviter = userSubject(ctx);
    await this.o.db.transaction().execute(async (trx) => {
      if (!(await repo.byId(trx, inviter, contactId))) throw errors.notFound('The contact');
      await this.o.vault.shred(trx, ctx, contactId);
      await repo.deleteContact(trx, contactId);
      await this.o.audit.append(trx, ctx, { action: 'contacts.withdrawn', subjectId: contactId });
    });
  }

  /**
   * The sharer's erasure (R-DSR-7): every contact they shared is shredded and removed, each in its own
   * transaction with its audit entry, so a crash leaves each contact done or untouched and a re-run finishes.
   * A contact whose key is already gone (an earlier, interrupted run) is just removed.
   */
  async eraseSharedBy(ctx: ActorContext, inviterId: string): Promise<number> {
    let erased = 0;
    for (const contactId of await repo.idsSharedBy(this.o.db, inviterId)) {
      await this.o.db.transaction().execute(async (trx) => {
        await this.o.vault.shred(trx, ctx, contactId).catch((e: unknown) => {
          if (!(isAppError(e) && e.code === 'NOT_FOUND')) throw e;
        });
        await repo.deleteContact(trx, contactId);
        await this.o.audit.append(trx, ctx, { action: 'contacts.erased_with_sharer', subjectId: contactId });
      });
      erased++;
    }
    return erased;
  }

  /**
   * Whose contact this is, for the screening of a correction (R-DSR-4): the person's own, someone else's (the
   * request is declined OTHERS_PRIVACY), or none at all. Ids only, nothing is opened.
   */
  async ownership(inviterId: string, contactId: string): Promise<'ok' | 'not_found' | 'not_yours'> {
    const row = await repo.inviterOf(this.o.db, contactId);
    return !row ? 'not_found' : row.inviter_subject_id === inviterId ? 'ok' : 'not_yours';
  }

  /**
   * R-DSR-1: prepares the correction of a contact the person shared, normalised as sharing does (a new e-mail gets
   * its blind index, so the contact's own erasure request by address finds it under the corrected one). Sealed
   * under the contact's own key; audited with field names only. Nothing is read inside the caller's transaction.
   */
  async prepareCorrection(inviterId: string, contactId: string, c: ContactCorrection): Promise<PreparedWrite> {
    if (!(await repo.byId(this.o.db, inviterId, contactId))) throw errors.notFound('The contact');
    // Only the fields given: a key with no value would be sealed as NULL and erase the stored one.
    const values: Record<string, string> = {};
    if (c.name !== undefined) {
      values.name = c.name.trim();
      if (values.name === '') throw errors.validation('The name may not be empty', { field: 'contacts.name' });
    }
    if (c.email !== undefined) values.email = normaliseEmail(c.email);
    if (c.phone !== undefined) values.phone = normalisePhone(c.phone);
    if (c.address !== undefined) values.address = JSON.stringify(c.address);
    const emailIndex = values.email === undefined ? undefined : this.o.vault.blindIndex('email', values.email);
    const fields = Object.keys(values);
    return {
      fields,
      write: async (trx, ctx) => {
        const sealed = await this.o.vault.encryptFields(trx, contactId, 'contacts', values);
        const patch = { ...(sealed as Partial<Record<'name' | 'email' | 'phone' | 'address', Buffer>>), ...(emailIndex === undefined ? {} : { email_index: emailIndex }) };
        if (!(await repo.correctContact(trx, inviterId, contactId, patch))) throw errors.notFound('The contact');
        await this.o.audit.append(trx, ctx, { action: 'contacts.corrected', subjectId: contactId, purpose: 'subject_rights', details: { inviter: inviterId, fields } });
      },
    };
  }

  /** The invitation was accepted (by the invitation flow): the contact no longer expires. */
  async markAccepted(ctx: ActorContext, contactId: string): Promise<boolean> {
    return this.o.db.transaction().execute(async (trx) => {
      const done = await repo.markAccepted(trx, contactId, new Date().toISOString());
      if (done) await this.o.audit.append(trx, ctx, { action: 'contacts.accepted', subjectId: contactId });
      return done;
    });
  }

  /**
   * The retention sweep (R-ACC-3): unaccepted contacts past their expiry are shredded and removed, in
   * batches, each contact in its own transaction so a failure leaves the others done. Safe to re-run.
   */
  async expire(ctx: ActorContext, now: Date = new Date()): Promise<{ expired: number; failed: number }> {
    await this.acceptance.sweepFailures(now);
    let expired = 0;
    const failedIds = new Set<string>();
    for (;;) {
      const batch = (await repo.expired(this.o.db, now.toISOString(), 200)).filter((c) => !failedIds.has(c.subject_id));
      if (batch.length === 0) break;
      for (const c of batch) {
        try {
          await this.o.db.transaction().execute(async (trx) => {
            await this.o.vault.shred(trx, ctx, c.subject_id);
            await repo.deleteContact(trx, c.subject_id);
            await this.o.audit.append(trx, ctx, { action: 'contacts.expired', subjectId: c.subject_id, details: { inviter: c.inviter_subject_id } });
          });
          expired++;
        } catch {
          failedIds.add(c.subject_id);
        }
      }
    }
    const failed = failedIds.size;
    return { expired, failed };
  }

  private async open(row: ContactRow): Promise<ContactView> {
    const f = await this.o.vault.decryptFields(
      this.o.db,
      row.subject_id,
      'contacts',
      { name: Buffer.from(row.name), email: Buffer.from(row.email), phone: row.phone ? Buffer.from(row.phone) : null, address: row.address ? Buffer.from(row.address) : null },
      CONTACT_PURPOSE,
    );
    return {
      id: row.subject_id,
      name: f.name!,
      email: f.email!,
      phone: f.phone,
      address: f.address === null ? null : (JSON.parse(f.address) as ContactAddress),
      reason: row.reason,
      status: row.status,
      createdAt: row.created_at,
      acceptedAt: row.accepted_at,
      expiresAt: row.status === 'accepted' ? null : row.expires_at,
    };
  }
}
