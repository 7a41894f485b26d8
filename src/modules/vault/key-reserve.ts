import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { KeyStore } from './key-store.js';
import type { NewVaultKeyRow } from './vault.table.js';
import type { SubjectKind } from './vault.js';

/** A key made ahead: committed (wrapped) to the key store, its plain bytes held only here until it is claimed. */
export interface ReservedKey {
  readonly subjectId: string;
  readonly dek: Buffer;
  /** When its batch was committed (ms since the epoch, this process's clock). */
  readonly reservedAt: number;
}

/** The vault's key maker: a fresh key for a new subject id, wrapped for it. */
export type KeyMaker = (kind: SubjectKind) => Promise<{ readonly subjectId: string; readonly dek: Buffer; readonly row: NewVaultKeyRow }>;

export interface KeyReserveOptions {
  /** The root handle: a refill commits in a transaction of its own. */
  readonly db: Kysely<Database>;
  /** The same connection, for the claim written inside the caller's transaction. */
  readonly raw: SQLite.Database;
  readonly keyStore: KeyStore;
  readonly makeKey: KeyMaker;
  /** Keys per refill (one durable commit each). */
  readonly size?: number;
  /** A reserved key older than this is not handed out (the sweep removes unclaimed ones after a day). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/** Unclaimed reserved keys older than this are swept; far above `maxAgeMs`, so a key in use is never swept. */
export const UNCLAIMED_KEY_GRACE_MS = 24 * 3_600_000;

/**
 * SQLite only. The key store is a second file committed at `synchronous = FULL` (a key must be durable before
 * any data sealed with it), so a key written in each sign-up's transaction costs an fsync per subject — measured
 * at ~0.2× the plaintext rate. The reserve commits keys ahead, `size` per fsync, and a new subject takes one by
 * writing a claim row in the data store in its own transaction: the key is durable before the data exists, and
 * the sign-up's commit touches the data file only. Keys never claimed (a rollback, a stop) wrap no data; the
 * retention sweep removes them after a day. PostgreSQL commits the key and the row in one durable transaction
 * and does not use a reserve.
 */
export class KeyReserve {
  private readonly ready = new Map<SubjectKind, ReservedKey[]>();
  private readonly refills = new Map<SubjectKind, Promise<void>>();
  private readonly size: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private claimStmt: SQLite.Statement | undefined;
  private stopped = false;

  constructor(private readonly o: KeyReserveOptions) {
    this.size = o.size ?? 128;
    this.maxAgeMs = o.maxAgeMs ?? 3_600_000;
    this.now = o.now ?? (() => Date.now());
  }

  /**
   * Takes a reserved key for a new subject and writes its claim; only inside the caller's transaction on this
   * connection (the claim commits or rolls back with the subject's rows). Undefined when none is ready: the
   * caller then writes a key in its own transaction. Starts a refill when the reserve runs low.
   */
  claim(kind: SubjectKind, at: string): ReservedKey | undefined {
    const queue = this.ready.get(kind) ?? [];
    let key: ReservedKey | undefined;
    while ((key = queue.shift()) !== undefined) {
      if (this.now() - key.reservedAt > this.maxAgeMs) key.dek.fill(0);
      else if (!this.o.keyStore.hasKeySync(key.subjectId)) key.dek.fill(0);
      else break;
    }
    if (queue.length < this.size / 2) this.refillInBackground(kind);
    if (!key) return undefined;
    this.claimStmt ??= this.o.raw.prepare('insert into main.vault_claims (subject_id, claimed_at) values (?, ?)');
    this.claimStmt.run(key.subjectId, at);
    return key;
  }

  /** Commits `size` new keys of a kind to the key store (one transaction, one fsync) and adds them to the reserve. */
  async fill(kind: SubjectKind): Promise<void> {
    const made: Awaited<ReturnType<KeyMaker>>[] = [];
    for (let i = 0; i < this.size; i++) made.push(await this.o.makeKey(kind));
    const reservedAt = this.now();
    const at = new Date(reservedAt).toISOString();
    await this.o.db.transaction().execute((trx) => this.o.keyStore.insertKeys(trx, made.map((m) => ({ ...m.row, reserved_at: at }))));
    const queue = this.ready.get(kind) ?? [];
    queue.push(...made.map((m) => ({ subjectId: m.subjectId, dek: m.dek, reservedAt })));
    this.ready.set(kind, queue);
  }

  /** How many keys of a kind are ready (tests, diagnostics). */
  available(kind: SubjectKind): number {
    return this.ready.get(kind)?.length ?? 0;
  }

  /** Waits for refills in flight and wipes the keys not handed out (their rows are swept later). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.refills.values());
    for (const queue of this.ready.values()) for (const k of queue) k.dek.fill(0);
    this.ready.clear();
  }

  private refillInBackground(kind: SubjectKind): void {
    if (this.stopped || this.refills.has(kind)) return;
    // A failed refill (the store closing, a full disk) leaves the reserve short: callers fall back to writing
    // their key in their own transaction, which reports that error where it matters.
    const refill = this.fill(kind)
      .catch(() => undefined)
      .finally(() => this.refills.delete(kind));
    this.refills.set(kind, refill);
  }
}
