import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { nowIso } from '../../internal/db/columns.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { DecisionGate } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { assertStoredFields } from './stored-fields.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The 1×1 transparent GIF every pixel request gets, recorded or not (42 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const TRACKING_PURPOSE = 'email_open_tracking';
const ENGAGEMENT = 'user.behavior.email_engagement';
const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** How many marketing e-mails a week the outbox may send this person, and why. */
export interface EmailAllowance {
  readonly perWeek: number;
  readonly reason: 'default' | 'rarely_opened' | 'never_opened';
}

export const DEFAULT_PER_WEEK = 3;
const WINDOW_MS = 30 * 86_400_000;

/**
 * E-mail open pixels (R-TEL-5). Product updates (notices/product-updates.service.ts) carry one per message
 * (`pixelFor`) for people who consented (`tracks`), and are sent no more often than `allowance`; only the token's
 * hash is kept. An open is recorded only while the person consents to e-mail open tracking; otherwise the same image
 * is returned and nothing is written. Recorded opens feed `allowance`: people who rarely open get fewer e-mails.
 */
export class Pixels {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
    private readonly gate: DecisionGate,
  ) {}

  /** Whether this person's e-mails may carry an open pixel: only while they consent to open tracking (never a child). */
  async tracks(subjectId: string): Promise<boolean> {
    return (await this.gate.decide({ subjectId, category: ENGAGEMENT, purpose: TRACKING_PURPOSE })).allow;
  }

  /**
   * A pixel path for one message, e.g. `/v1/px/px_…gif`; `messageRef` is the outbox's message id. It mints a token
   * whatever the consent: callers ask `tracks` first (a token of someone who withdrew later records nothing).
   */
  async pixelFor(db: Db, subjectId: string, messageRef: string): Promise<string> {
    const token = `px_${randomBytes(18).toString('base64url')}`;
    const row = { token_hash: hash(token), subject_id: subjectId, message_ref: messageRef.slice(0, 100), created_at: nowIso() };
    assertStoredFields(this.policy, 'pixel_tokens', Object.keys(row));
    await db.insertInto('pixel_tokens').values(row).execute();
    return `/v1/px/${token}.gif`;
  }

  /** Handles a pixel request; true when an open was recorded. Unknown tokens and non-consenting people record nothing. */
  async open(ctx: ActorContext, token: string): Promise<boolean> {
    if (!/^px_[\w-]{10,40}$/.test(token)) return false;
    const row = await this.db.selectFrom('pixel_tokens').select(['subject_id', 'message_ref']).where('token_hash', '=', hash(token)).executeTakeFirst();
    if (!row) return false;
    const decision = await this.gate.decide({ subjectId: row.subject_id, category: ENGAGEMENT, purpose: TRACKING_PURPOSE });
    if (!decision.allow) return false;
    const opened = { id: randomUUID(), subject_id: row.subject_id, message_ref: row.message_ref, opened_at: nowIso() };
    assertStoredFields(this.policy, 'email_opens', Object.keys(opened));
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('email_opens').values(opened).execute();
      await this.audit.append(trx, ctx, { action: 'email.open_recorded', subjectId: row.subject_id, purpose: TRACKING_PURPOSE, target: row.message_ref });
    });
    return true;
  }

  /**
   * The rule the outbox asks ("reduce the emails sent"): with at least 5 tracked e-mails in 30 days, nobody
   * opening any → 1 a week, fewer than a quarter opened → 1 a week more than that; otherwise the default.
   * Without consent to tracking there are no opens to count, and the default applies.
   */
  async allowance(db: Db, subjectId: string, now = new Date()): Promise<EmailAllowance> {
    const since = new Date(now.getTime() - WINDOW_MS).toISOString();
    if (!(await this.tracks(subjectId))) return { perWeek: DEFAULT_PER_WEEK, reason: 'default' };
    const sent = await db.selectFrom('pixel_tokens').select((e) => e.fn.countAll<number>().as('n')).where('subject_id', '=', subjectId).where('created_at', '>=', since).executeTakeFirstOrThrow();
    const opened = await db.selectFrom('email_opens').select((e) => e.fn.count<number>('message_ref').distinct().as('n')).where('subject_id', '=', subjectId).where('opened_at', '>=', since).executeTakeFirstOrThrow();
    const s = Number(sent.n);
    const o = Number(opened.n);
    if (s < 5) return { perWeek: DEFAULT_PER_WEEK, reason: 'default' };
    if (o === 0) return { perWeek: 1, reason: 'never_opened' };
    if (o / s < 0.25) return { perWeek: 2, reason: 'rarely_opened' };
    return { perWeek: DEFAULT_PER_WEEK, reason: 'default' };
  }
}
