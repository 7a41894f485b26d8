import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { AuditLog } from '../audit/audit.service.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * How long this process reuses a computed pseudonym. Opting out clears it here at once (`forget`); another
 * instance may reuse it for at most this long, which only matters if the person re-joins within that time.
 */
const RECENT_MS = 5_000;

/**
 * Rotating pseudonyms of the User Experience Program (R-TEL-2).
 *
 * pseudonym = HMAC-SHA256(epoch secret, subject id ‖ the person's salt for that epoch).
 * Two deletions make stored events unlinkable: the epoch secret is destroyed when its epoch ends (nothing of an
 * old epoch can be recomputed), and a person's salt is deleted when they opt out (their pseudonym of the current
 * epoch can no longer be recomputed either; re-joining draws a new salt, hence a new pseudonym).
 */
export class Pseudonyms {
  private readonly secrets = new Map<number, Buffer>();
  /** subject → pseudonym of the current epoch, for a few seconds (a hot device sends a batch every few ms). */
  private readonly recent = new Map<string, { epoch: number; pseudonym: string; until: number }>();

  constructor(
    private readonly epochMs: number,
    private readonly audit: AuditLog,
  ) {}

  epochOf(nowMs: number): number {
    return Math.floor(nowMs / this.epochMs);
  }

  /** The person's pseudonym for the epoch of `nowMs`, creating the epoch secret and their salt on first use. */
  async pseudonymFor(db: Db, subjectId: string, nowMs = Date.now()): Promise<string> {
    const map = await this.pseudonymsFor(db, [subjectId], nowMs);
    return map.get(subjectId) as string;
  }

  /** Pseudonyms of many people at once: one read of the salts, one insert of the missing ones. */
  async pseudonymsFor(db: Db, subjectIds: readonly string[], nowMs = Date.now()): Promise<Map<string, string>> {
    const epoch = this.epochOf(nowMs);
    const out = new Map<string, string>();
    const now = Date.now();
    for (const id of subjectIds) {
      const hit = this.recent.get(id);
      if (hit && hit.epoch === epoch && hit.until > now) out.set(id, hit.pseudonym);
    }
    if (out.size === new Set(subjectIds).size) return out;
    const secret = await this.secretOf(db, epoch);
    const salts = await this.saltsOf(db, subjectIds.filter((id) => !out.has(id)), epoch);
    const missing = subjectIds.filter((id) => !out.has(id) && !salts.has(id));
    if (missing.length > 0) {
      const at = new Date(nowMs).toISOString();
      // Sorted: concurrent group commits inserting the same people then take the key locks in one order (no deadlock).
      await db
        .insertInto('telemetry_links')
        .values([...new Set(missing)].sort().map((subject_id) => ({ subject_id, epoch, salt: randomBytes(16), created_at: at })))
        .onConflict((oc) => oc.doNothing())
        .execute();
      for (const [id, salt] of await this.saltsOf(db, missing, epoch)) salts.set(id, salt);
    }
    if (this.recent.size > 100_000) this.recent.clear();
    for (const id of subjectIds) {
      if (out.has(id)) continue;
      const pseudonym = createHmac('sha256', secret).update(id).update('\0').update(salts.get(id) as Uint8Array).digest('base64url').slice(0, 22);
      out.set(id, pseudonym);
      this.recent.set(id, { epoch, pseudonym, until: now + RECENT_MS });
    }
    return out;
  }

  private async saltsOf(db: Db, subjectIds: readonly string[], epoch: number): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    const unique = [...new Set(subjectIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await db.selectFrom('telemetry_links').select(['subject_id', 'salt']).where('epoch', '=', epoch).where('subject_id', 'in', unique.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.subject_id, r.salt);
    }
    return out;
  }

  /** R-CHO-2: opting out discards the person's link for every live epoch. Idempotent, audited. */
  async forget(db: Db, ctx: ActorContext, subjectId: string): Promise<number> {
    if (!db.isTransaction) return (db as Kysely<Database>).transaction().execute((trx) => this.forget(trx, ctx, subjectId));
    this.recent.delete(subjectId);
    const res = await db.deleteFrom('telemetry_links').where('subject_id', '=', subjectId).executeTakeFirst();
    const removed = Number(res.numDeletedRows);
    if (removed > 0) await this.audit.append(db, ctx, { action: 'telemetry.link_forgotten', subjectId, details: { links: removed } });
    return removed;
  }

  /**
   * Account erasure's purge (R-DSR-7): the person's links of every epoch, and this process's cached pseudonym.
   * Not audited per table like `forget`: the rights module audits the purge as a whole. Idempotent.
   */
  async purgeSubject(db: Db, subjectId: string): Promise<number> {
    this.recent.delete(subjectId);
    const res = await db.deleteFrom('telemetry_links').where('subject_id', '=', subjectId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Destroys the secrets of ended epochs and their salts. Idempotent; the retention sweeper runs it. */
  async destroyEnded(db: Db, nowMs = Date.now()): Promise<number> {
    const current = this.epochOf(nowMs);
    const at = new Date(nowMs).toISOString();
    const res = await db.updateTable('telemetry_epochs').set({ secret: null, destroyed_at: at }).where('epoch', '<', current).where('secret', 'is not', null).executeTakeFirst();
    const links = await db.deleteFrom('telemetry_links').where('epoch', '<', current).executeTakeFirst();
    for (const e of this.secrets.keys()) if (e < current) this.secrets.delete(e);
    this.recent.clear();
    return Number(res.numUpdatedRows) + Number(links.numDeletedRows);
  }

  private async secretOf(db: Db, epoch: number): Promise<Buffer> {
    const cached = this.secrets.get(epoch);
    if (cached) return cached;
    await db
      .insertInto('telemetry_epochs')
      .values({ epoch, secret: randomBytes(32), starts_at: new Date(epoch * this.epochMs).toISOString(), ends_at: new Date((epoch + 1) * this.epochMs).toISOString(), destroyed_at: null })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await db.selectFrom('telemetry_epochs').select('secret').where('epoch', '=', epoch).executeTakeFirstOrThrow();
    // A destroyed epoch never comes back to life: refusing is safer than minting a fresh secret for it.
    if (row.secret === null) throw new Error(`pseudonym epoch ${epoch} has ended; its secret is destroyed`);
    const secret = Buffer.from(row.secret);
    this.secrets.set(epoch, secret);
    return secret;
  }
}
