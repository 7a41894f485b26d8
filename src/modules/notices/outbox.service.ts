import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../internal/db/database.js';
import { isAppError } from '../../internal/errors/app-error.js';
import type { Vault } from '../vault/vault.service.js';
import type { MailMessage, MailTransport } from './mail.transport.js';
import * as repo from './outbox.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface EnqueueInput {
  readonly subjectId: string;
  readonly purpose: string;
  readonly kind: string;
  readonly message: MailMessage;
  /** Given when the caller needs the id before queuing (an open pixel names its message); a new UUID otherwise. */
  readonly id?: string;
}

export interface DeliveryResult {
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
}

/** After this many attempts a message is `failed` for good; between attempts the wait doubles from 5 s. */
export const MAX_ATTEMPTS = 5;
const LEASE_MS = 5 * 60_000;

/**
 * The e-mail outbox (R-USE-4): messages are written in the caller's transaction (so a rolled-back
 * use case sends nothing) and delivered afterwards by `deliverDue`, from a timer or a `kick`.
 */
export class Outbox {
  private running: Promise<DeliveryResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
    private readonly transport: MailTransport,
    private readonly from: string,
    private readonly logger: Logger,
  ) {}

  /** Queues a message, encrypted with the recipient subject's key (field `outbox.message`). */
  async enqueue(db: Db, input: EnqueueInput): Promise<string> {
    const id = input.id ?? randomUUID();
    const now = new Date().toISOString();
    const message = await this.vault.encrypt(db, input.subjectId, 'outbox', 'message', JSON.stringify(input.message));
    await repo.insertMessage(db, { id, subject_id: input.subjectId, purpose: input.purpose, kind: input.kind, message, status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, created_at: now, sent_at: null });
    return id;
  }

  /**
   * Account erasure's purge (R-DSR-7), run after the key is shredded: deletes the subject's messages, already
   * unreadable (from the shred on, a message still due fails for good with SUBJECT_ERASED). Idempotent; the
   * rights module audits the purge as a whole.
   */
  purgeSubject(db: Db, subjectId: string): Promise<number> {
    return repo.purgeSubject(db, subjectId);
  }

  /** Delivers what is due; one run at a time per process (a second call joins the first). */
  deliverDue(limit = 50): Promise<DeliveryResult> {
    this.running ??= this.run(limit).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Asks for a delivery soon, without waiting for it (after a commit that queued mail). */
  kick(): void {
    setImmediate(() => this.stopped || void this.deliverDue().catch((err: unknown) => this.logger.error({ err }, 'outbox delivery failed')));
  }

  start(intervalMs = 2000): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    this.transport.close();
  }

  private async run(limit: number): Promise<DeliveryResult> {
    const counts = { sent: 0, retried: 0, failed: 0 };
    const now = Date.now();
    for (const row of await repo.dueMessages(this.db, new Date(now).toISOString(), limit)) {
      if (!(await repo.claim(this.db, row, new Date(now + LEASE_MS).toISOString()))) continue;
      const attempts = row.attempts + 1;
      try {
        const message = JSON.parse(await this.vault.decrypt(this.db, row.subject_id, 'outbox', 'message', row.message, row.purpose)) as MailMessage;
        await this.transport.send(row.id, this.from, message);
        await repo.finish(this.db, row.id, 'sent', { attempts, lastError: null, sentAt: new Date().toISOString() });
        counts.sent++;
      } catch (err) {
        // Only a code is kept: SMTP replies can quote the recipient's address.
        const code = isAppError(err) ? err.code : String((err as { code?: unknown }).code ?? 'SEND_FAILED');
        const final = attempts >= MAX_ATTEMPTS || code === 'SUBJECT_ERASED';
        await repo.finish(this.db, row.id, final ? 'failed' : 'pending', { attempts, lastError: code, nextAttemptAt: new Date(Date.now() + 5000 * 2 ** (attempts - 1)).toISOString() });
        this.logger.warn({ outboxId: row.id, code, attempts }, final ? 'mail delivery failed for good' : 'mail delivery failed; will retry');
        if (final) counts.failed++;
        else counts.retried++;
      }
    }
    return counts;
  }
}
