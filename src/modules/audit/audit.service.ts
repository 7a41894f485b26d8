import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import { actorLabel, type ActorContext } from '../../internal/context.js';
import { GENESIS_HASH, canonicalJson, entryHash } from './audit.hash.js';
import { ChainVerifier, describeBreak, type ChainBreak } from './audit.verify.js';
import * as repo from './audit.repository.js';

type Db = Kysely<Database> | Transaction<Database>;
export type AuditValue = string | number | boolean | null | readonly (string | number | boolean)[];

export interface AuditEntry {
  readonly action: string;
  readonly subjectId?: string | undefined;
  readonly purpose?: string | undefined;
  readonly target?: string | undefined;
  /** Ids, field names, counts and codes only: never a personal value. */
  readonly details?: Readonly<Record<string, AuditValue>>;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly firstBreak?: ChainBreak;
  readonly message: string;
}

// A cheap tripwire: an e-mail address in audit details is a programming error, not data to keep.
const LOOKS_LIKE_EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;

function assertNoPersonalValues(details: Readonly<Record<string, AuditValue>>): void {
  for (const [k, v] of Object.entries(details)) {
    const values = Array.isArray(v) ? v : [v];
    for (const x of values) {
      if (typeof x === 'string' && (x.length > 200 || LOOKS_LIKE_EMAIL.test(x))) {
        throw new Error(`audit details "${k}" look like a personal value; record ids and field names only`);
      }
    }
  }
}

/** The one way anything is written to the hash-chained audit log (R-SEC-6). */
export class AuditLog {
  constructor(
    private readonly kind: EngineKind,
    private readonly policy: { readonly version: string; readonly hash: string },
  ) {}

  /** Appends in the caller's transaction, or in a transaction of its own when given the bare handle. */
  async append(db: Db, ctx: ActorContext, entry: AuditEntry): Promise<void> {
    if (!db.isTransaction) {
      await (db as Kysely<Database>).transaction().execute((trx) => this.append(trx, ctx, entry));
      return;
    }
    const details = entry.details ?? {};
    assertNoPersonalValues(details);
    const head = await repo.lockHead(db, this.kind === 'postgres');
    const row = {
      seq: (head?.seq ?? 0) + 1,
      at: new Date().toISOString(),
      actor: actorLabel(ctx.actor),
      action: entry.action,
      subject_id: entry.subjectId ?? null,
      purpose: entry.purpose ?? ctx.purpose ?? null,
      target: entry.target ?? null,
      details: canonicalJson({ ...details, requestId: ctx.requestId }),
      policy_version: this.policy.version,
      policy_hash: this.policy.hash,
      prev_hash: head?.hash ?? GENESIS_HASH,
    };
    await repo.insertEntry(db, { ...row, hash: entryHash(row) });
  }

  /**
   * Appends several entries in order, taking the chain's head lock once (bulk import): the same links as
   * that many `append` calls, written with multi-row inserts and one head update.
   */
  async appendMany(db: Db, ctx: ActorContext, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (!db.isTransaction) {
      await (db as Kysely<Database>).transaction().execute((trx) => this.appendMany(trx, ctx, entries));
      return;
    }
    for (const entry of entries) assertNoPersonalValues(entry.details ?? {});
    const head = await repo.lockHead(db, this.kind === 'postgres');
    let seq = head?.seq ?? 0;
    let prev = head?.hash ?? GENESIS_HASH;
    const at = new Date().toISOString();
    const actor = actorLabel(ctx.actor);
    const rows = entries.map((entry) => {
      seq += 1;
      const row = {
        seq,
        at,
        actor,
        action: entry.action,
        subject_id: entry.subjectId ?? null,
        purpose: entry.purpose ?? ctx.purpose ?? null,
        target: entry.target ?? null,
        details: canonicalJson({ ...(entry.details ?? {}), requestId: ctx.requestId }),
        policy_version: this.policy.version,
        policy_hash: this.policy.hash,
        prev_hash: prev,
      };
      prev = entryHash(row);
      return { ...row, hash: prev };
    });
    await repo.insertEntries(db, rows);
  }

  /** Walks the whole chain in pages and reports the first broken link. */
  async verify(db: Db, onProgress?: (checked: number) => void): Promise<VerifyResult> {
    const verifier = new ChainVerifier();
    const pageSize = 5000;
    let after = 0;
    for (;;) {
      const page = await repo.readPage(db, after, pageSize);
      for (const row of page) if (!verifier.push(row)) break;
      onProgress?.(verifier.count);
      if (verifier.firstBreak || page.length < pageSize) break;
      after = page[page.length - 1]!.seq;
    }
    const broken = verifier.finish(await repo.readHead(db));
    return broken
      ? { ok: false, entries: verifier.count, firstBreak: broken, message: describeBreak(broken) }
      : { ok: true, entries: verifier.count, message: `${verifier.count} entries, chain intact` };
  }
}
