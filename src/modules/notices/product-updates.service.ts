import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { errors, isAppError } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Outbox } from './outbox.service.js';
import { countKindsSince } from './outbox.repository.js';
import { productUpdateMail, type ProductUpdate } from './templates.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Outbox kinds that are marketing: subject to the e-mail frequency rule and, with consent, an open pixel. Every
 * other kind (codes, security and rights notices, invitations) is transactional: never held back, never tracked.
 */
export const MARKETING_KINDS: readonly string[] = ['product_update'];

/** The purpose product updates are sent (and their address read) for: "updates of products or services". */
export const PRODUCT_UPDATE_PURPOSE = 'service_notices';

const WEEK_MS = 7 * 86_400_000;
const MAX_TITLE = 200;
const MAX_TEXT = 20_000;

/** What the pixels module (telemetry) offers the outbox: the frequency rule and the open pixel (R-TEL-5). */
export interface OpenTracking {
  tracks(subjectId: string): Promise<boolean>;
  pixelFor(db: Db, subjectId: string, messageRef: string): Promise<string>;
  allowance(db: Db, subjectId: string): Promise<{ readonly perWeek: number; readonly reason: string }>;
}

/** Reads a person's current e-mail address for a purpose (through the vault's decision). */
export interface Recipients {
  emailOf(db: Db, subjectId: string, purpose: string): Promise<string>;
}

export interface ProductUpdateResult {
  /** Queued for delivery, one message each. */
  readonly queued: number;
  /** Not sent: the person already had this week's allowance of marketing e-mails. */
  readonly heldBack: number;
  /** Not sent, with the error code (e.g. SUBJECT_ERASED, PURPOSE_DENIED); never the address. */
  readonly failed: readonly { readonly subjectId: string; readonly code: string }[];
}

/**
 * Sends a product or service update (R-USE-4) to a list of people, and keeps the policy's e-mail promises
 * (R-TEL-5): a person gets no more marketing e-mails in any 7 days than `allowance()` gives them, which is lower
 * for people whose tracked e-mails go unopened; only people who consented to open tracking get a pixel. A bulk
 * send can partly succeed, so it returns what was queued, held back and refused, and can be run again for the rest.
 */
export class ProductUpdates {
  constructor(
    private readonly o: {
      readonly db: Kysely<Database>;
      readonly outbox: Outbox;
      readonly audit: AuditLog;
      readonly tracking: OpenTracking;
      readonly recipients: Recipients;
      /** The origin the pixel URL is built on (PLEDGE_PUBLIC_URL). */
      readonly publicUrl: string;
    },
  ) {}

  /** @example await productUpdates.send(ctx, { subjectIds, update: { title: 'Firmware 2.1 is out', text: '…' } }) */
  async send(ctx: ActorContext, input: { readonly subjectIds: readonly string[]; readonly update: ProductUpdate }): Promise<ProductUpdateResult> {
    const { title, text } = input.update;
    if (title.trim() === '' || title.length > MAX_TITLE || /[\r\n]/.test(title)) throw errors.validation(`A title is one line of 1 to ${MAX_TITLE} characters`, { field: 'title' });
    if (text.trim() === '' || text.length > MAX_TEXT) throw errors.validation(`A text is 1 to ${MAX_TEXT} characters`, { field: 'text' });
    let queued = 0;
    let heldBack = 0;
    const failed: { subjectId: string; code: string }[] = [];
    for (const subjectId of new Set(input.subjectIds)) {
      try {
        if (await this.sendOne(ctx, subjectId, input.update)) queued++;
        else heldBack++;
      } catch (e) {
        // Refusals (erased, restricted, unknown person) are reported per person; a store failure stops the run.
        if (!isAppError(e) || e.status >= 500) throw e;
        failed.push({ subjectId, code: e.code });
      }
    }
    if (queued > 0) this.o.outbox.kick();
    return { queued, heldBack, failed };
  }

  /** False when held back by the weekly allowance. */
  private async sendOne(ctx: ActorContext, subjectId: string, update: ProductUpdate): Promise<boolean> {
    const { db } = this.o;
    // Decisions (allowance, tracking, the address's purpose) are taken before the transaction: on SQLite's single
    // connection the decision engine could not read the subject's state while a transaction holds it.
    const allowance = await this.o.tracking.allowance(db, subjectId);
    // Counted outside the transaction: two bulk sends to one person at the same moment could exceed the allowance
    // by one message, which the next week's count absorbs; a lock per person is not worth it for that.
    const thisWeek = await countKindsSince(db, subjectId, MARKETING_KINDS, new Date(Date.now() - WEEK_MS).toISOString());
    if (thisWeek >= allowance.perWeek) return false;
    const to = await this.o.recipients.emailOf(db, subjectId, PRODUCT_UPDATE_PURPOSE);
    const tracked = await this.o.tracking.tracks(subjectId);
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      const pixel = tracked ? new URL(await this.o.tracking.pixelFor(trx, subjectId, id), this.o.publicUrl).href : undefined;
      await this.o.outbox.enqueue(trx, { id, subjectId, purpose: PRODUCT_UPDATE_PURPOSE, kind: 'product_update', message: productUpdateMail(to, update, pixel) });
      await this.o.audit.append(trx, ctx, { action: 'notice.product_update_queued', subjectId, purpose: PRODUCT_UPDATE_PURPOSE, target: `outbox:${id}`, details: { pixel: tracked, perWeek: allowance.perWeek } });
    });
    return true;
  }
}
