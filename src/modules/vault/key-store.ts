import fs from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Engine, EngineKind } from '../../internal/db/engine.js';
import type { NewVaultKeyRow, VaultKeyRow } from './vault.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The insert's parameters, in the order of its columns (see compileInsert). */
const keyParams = (r: NewVaultKeyRow): unknown[] => [r.subject_id, r.kind, r.wrapped_dek ?? null, r.kek_version ?? null, r.created_at, r.shredded_at ?? null, r.reserved_at ?? null];

/** The SQLite alias of the attached key file. */
const SQLITE_ALIAS = 'vault_keystore';

/**
 * Where the wrapped DEKs live: NOT in the data store. On SQLite an attached file `keys.db` beside `pledge.db`
 * (same connection, so the caller's transaction covers both); on PostgreSQL the schema `<data schema>_keys`
 * of the same database. A backup of the data store (VACUUM INTO / the backup API / `pg_dump -n <schema>`)
 * therefore carries ciphertext but no key, and destroying a key here reaches every such backup (R-DSR-7).
 * The key store is backed up on its own, with a short retention.
 */
export class KeyStore {
  constructor(
    readonly kind: EngineKind,
    /** SQLite: the attach alias; PostgreSQL: the key schema. */
    readonly schema: string,
    /** SQLite: the key file. */
    readonly file?: string,
    /** SQLite: the connection under Kysely, for the insert prepared once. */
    private readonly raw?: SQLite.Database,
    /** SQLite: the root handle, for compactions queued behind a caller's transaction. */
    private readonly root?: Kysely<Database>,
  ) {}

  // The two statements on every subject's path, compiled once: Kysely's withSchema plugin rewrites the whole
  // query tree on each call, which cost more than the SQLite insert itself (measured in docs/PERFORMANCE.md).
  private insertSql: string | undefined;
  private findSql: string | undefined;
  // SQLite: Kysely's driver prepares every statement again on each call (~40 % of the key insert's cost).
  private insertStmt: SQLite.Statement | undefined;
  private hasStmt: SQLite.Statement | undefined;

  private keys(db: Db) {
    return db.withSchema(this.schema);
  }

  async insertKey(db: Db, row: NewVaultKeyRow): Promise<void> {
    if (row.dek_version !== undefined) {
      await this.keys(db).insertInto('vault_keys').values(row).execute();
      return;
    }
    await this.insertKeys(db, [row]);
  }

  /**
   * New subjects' keys (dek_version 1), in the caller's transaction: SQLite runs one statement prepared once per
   * row (no parsing, no round trip); PostgreSQL sends multi-row inserts of up to 1,000 rows (6 parameters each).
   */
  async insertKeys(db: Db, rows: readonly NewVaultKeyRow[]): Promise<void> {
    // Parameters in the order of the columns below; the values given to compile() only fix the shape.
    this.insertSql ??= this.compileInsert(db);
    const params = keyParams;
    // Only inside a transaction: SQLite has one connection, so a Kysely transaction that is open holds it and a
    // statement run on the raw handle lands in that transaction. Outside one, another caller's transaction
    // could be open on the connection, so the statement goes through Kysely's queue.
    if (this.raw && db.isTransaction) {
      this.insertStmt ??= this.raw.prepare(this.insertSql);
      for (const r of rows) this.insertStmt.run(params(r));
      return;
    }
    if (rows.length === 1) {
      await db.executeQuery(CompiledQuery.raw(this.insertSql, params(rows[0]!)));
      return;
    }
    for (let i = 0; i < rows.length; i += 1000) await this.keys(db).insertInto('vault_keys').values(rows.slice(i, i + 1000)).execute();
  }

  /**
   * A new subject's key and the caller's first row of that subject, in the caller's transaction. PostgreSQL
   * runs both as one statement (the key insert as a data-modifying CTE: one round trip instead of two, and
   * both or neither); SQLite, whose DML cannot sit in a CTE, runs the prepared key insert and then the row.
   */
  async insertKeyWith(db: Transaction<Database>, row: NewVaultKeyRow, first: CompiledQuery): Promise<void> {
    if (this.kind !== 'postgres' || /^\s*with\s/i.test(first.sql)) {
      await this.insertKeys(db, [row]);
      await db.executeQuery(first);
      return;
    }
    this.insertSql ??= this.compileInsert(db);
    const offset = first.parameters.length;
    const keySql = this.insertSql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    const params = [...first.parameters, ...keyParams(row)];
    await db.executeQuery(CompiledQuery.raw(`with vault_new_key as (${keySql}) ${first.sql}`, params));
  }

  private compileInsert(db: Db): string {
    return this.keys(db).insertInto('vault_keys').values({ subject_id: '', kind: '', wrapped_dek: null, kek_version: null, created_at: '', shredded_at: null, reserved_at: null }).compile().sql;
  }

  /**
   * SQLite, inside the caller's transaction: whether the subject's key is in the store (a reserved key is
   * checked before it is claimed: the sweep may have removed it if the clock jumped). Prepared once.
   */
  hasKeySync(subjectId: string): boolean {
    if (!this.raw) throw new Error('hasKeySync is for the SQLite key store');
    this.hasStmt ??= this.raw.prepare(`select 1 from ${SQLITE_ALIAS}.vault_keys where subject_id = ? and wrapped_dek is not null`).pluck();
    return this.hasStmt.get(subjectId) !== undefined;
  }

  /**
   * Removes reserved keys never claimed (their process stopped, or the transaction that took one rolled back),
   * reserved before `before`. They wrap no data: nothing was sealed with a key before its claim committed.
   */
  async dropUnclaimedReserved(db: Db, before: string): Promise<number> {
    const keys = this.kind === 'sqlite' ? sql.raw(`${SQLITE_ALIAS}.vault_keys`) : sql.id(this.schema, 'vault_keys');
    const claims = this.kind === 'sqlite' ? sql.raw('main.vault_claims') : sql.raw('vault_claims');
    const r = await sql`delete from ${keys} where reserved_at is not null and reserved_at < ${before} and wrapped_dek is not null
      and not exists (select 1 from ${claims} c where c.subject_id = ${keys}.subject_id)`.execute(db);
    return Number(r.numAffectedRows ?? 0n);
  }

  async findKey(db: Db, subjectId: string): Promise<VaultKeyRow | undefined> {
    this.findSql ??= this.keys(db).selectFrom('vault_keys').selectAll().where('subject_id', '=', '').compile().sql;
    const { rows } = await db.executeQuery<VaultKeyRow>(CompiledQuery.raw(this.findSql, [subjectId]));
    return rows[0];
  }

  /**
   * Destroys a subject's wrapped key, leaving a tombstone; true when there was a key. SQLite zeroes the freed
   * bytes (secure_delete); PostgreSQL keeps the dead tuple until VACUUM (see docs/ARCHITECTURE.md).
   */
  async destroyKey(db: Db, subjectId: string, at: string): Promise<boolean> {
    const r = await this.keys(db)
      .updateTable('vault_keys')
      .set({ wrapped_dek: null, kek_version: null, shredded_at: at })
      .where('subject_id', '=', subjectId)
      .where('wrapped_dek', 'is not', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** SQLite: pushes the WAL into the file and empties it, so no old page image of a destroyed key stays in the WAL. */
  async compact(db: Kysely<Database>): Promise<void> {
    if (this.kind === 'sqlite') await sql.raw(`PRAGMA ${SQLITE_ALIAS}.wal_checkpoint(TRUNCATE)`).execute(db);
  }

  /** The compaction queued and not yet finished, if any. */
  private compaction: Promise<void> | undefined;

  /**
   * SQLite, after a key was destroyed inside a caller's transaction: queues a compaction on the root handle. The
   * store has one connection, so it runs as soon as that transaction ends (committed or not), before any statement
   * queued after it. One queued at a time: a shred can only run while no compaction holds the connection, so a
   * compaction queued before it has either finished (then this queues another) or runs after it.
   */
  compactSoon(): void {
    if (this.kind !== 'sqlite' || !this.root || this.compaction) return;
    // A failed compaction (the store closing, a reader in another process) leaves the next one to do it.
    this.compaction = this.compact(this.root)
      .catch(() => undefined)
      .finally(() => (this.compaction = undefined));
  }

  /** Settles once the compaction queued by `compactSoon` has run (at once when none is queued). */
  async compacted(): Promise<void> {
    await this.compaction;
  }

  async countByVersion(db: Db): Promise<Map<number, number>> {
    const rows = await this.keys(db).selectFrom('vault_keys').select(['kek_version', (eb) => eb.fn.countAll<number>().as('n')]).where('kek_version', 'is not', null).groupBy('kek_version').execute();
    return new Map(rows.map((r) => [Number(r.kek_version), Number(r.n)]));
  }

  /** The next keys still wrapped by a version older than `current`, for rotation. */
  async outdatedBatch(db: Db, current: number, limit: number): Promise<VaultKeyRow[]> {
    return this.keys(db).selectFrom('vault_keys').selectAll().where('kek_version', '<', current).orderBy('subject_id').limit(limit).execute();
  }

  /** Re-wraps one key, only if nobody changed it meanwhile (a shred, another rotation). */
  async rewrap(db: Db, subjectId: string, fromVersion: number, wrapped: Buffer, toVersion: number): Promise<void> {
    await this.keys(db)
      .updateTable('vault_keys')
      .set({ wrapped_dek: wrapped, kek_version: toVersion })
      .where('subject_id', '=', subjectId)
      .where('kek_version', '=', fromVersion)
      .execute();
  }
}

/** Opens (creating when missing) the key store of an engine. Idempotent, safe from several processes. */
export async function openKeyStore(engine: Engine): Promise<KeyStore> {
  if (engine.kind === 'sqlite') return openSqliteKeyStore(engine);
  const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(engine.db);
  const schema = `${rows[0]!.s}_keys`;
  // Several instances may start at once: IF NOT EXISTS still races in the catalog (unique violation); the
  // object exists either way.
  await alreadyThere(sql`create schema if not exists ${sql.id(schema)}`.execute(engine.db));
  await alreadyThere(createKeyTable(engine.db, schema, 'bytea'));
  // Looked up first: ALTER TABLE takes an exclusive lock on the key table even when the column exists, at every start.
  const { rows: reserved } = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_schema = ${schema} and table_name = 'vault_keys' and column_name = 'reserved_at'`.execute(engine.db);
  if (reserved[0]!.n === 0) await sql`alter table ${sql.id(schema, 'vault_keys')} add column if not exists reserved_at text`.execute(engine.db);
  await alreadyThere(sql`create index if not exists vault_keys_kek on ${sql.id(schema, 'vault_keys')} (kek_version)`.execute(engine.db));
  return new KeyStore('postgres', schema);
}

async function alreadyThere(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!['23505', '42P06', '42P07'].includes((e as { code?: string }).code ?? '')) throw e;
  }
}

async function openSqliteKeyStore(engine: Engine): Promise<KeyStore> {
  const file = path.join(path.dirname(engine.file!), 'keys.db');
  // Create it owner-only before SQLite does (SQLite gives its -wal and -shm files the same mode).
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const { rows } = await sql<{ name: string }>`select name from pragma_database_list`.execute(engine.db);
  if (!rows.some((r) => r.name === SQLITE_ALIAS)) await sql`attach database ${file} as ${sql.raw(SQLITE_ALIAS)}`.execute(engine.db);
  await sql.raw(`PRAGMA ${SQLITE_ALIAS}.journal_mode = WAL`).execute(engine.db);
  // FULL here while main runs NORMAL: a committed key must survive a power cut whenever its data does, or the data
  // is lost (a key rolled back under surviving data reads as shredded); a key without data is harmless. Set
  // explicitly: the attached file otherwise ends up at the connection's NORMAL (measured: it read 1).
  await sql.raw(`PRAGMA ${SQLITE_ALIAS}.synchronous = FULL`).execute(engine.db);
  // Freed pages are zeroed, so a destroyed key does not linger in the file.
  await sql.raw(`PRAGMA ${SQLITE_ALIAS}.secure_delete = ON`).execute(engine.db);
  await createKeyTable(engine.db, SQLITE_ALIAS, 'blob');
  // Key files made before the reserve existed lack the column (SQLite has no ADD COLUMN IF NOT EXISTS).
  const { rows: columns } = await sql<{ name: string }>`select name from pragma_table_info('vault_keys', ${SQLITE_ALIAS})`.execute(engine.db);
  if (!columns.some((c) => c.name === 'reserved_at')) {
    // Another process starting at the same moment may have added it first.
    await sql.raw(`alter table ${SQLITE_ALIAS}.vault_keys add column reserved_at text`).execute(engine.db).catch((e: unknown) => {
      if (!/duplicate column name/i.test((e as Error).message)) throw e;
    });
  }
  await sql.raw(`create index if not exists ${SQLITE_ALIAS}.vault_keys_kek on vault_keys (kek_version)`).execute(engine.db);
  return new KeyStore('sqlite', SQLITE_ALIAS, file, engine.sqlite, engine.db);
}

async function createKeyTable(db: Kysely<Database>, schema: string, bytes: 'blob' | 'bytea'): Promise<void> {
  await db.schema
    .withSchema(schema)
    .createTable('vault_keys')
    .ifNotExists()
    .addColumn('subject_id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('wrapped_dek', bytes)
    .addColumn('kek_version', 'integer')
    .addColumn('dek_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('shredded_at', 'text')
    .addColumn('reserved_at', 'text')
    .execute();
}
