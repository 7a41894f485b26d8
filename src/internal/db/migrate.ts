import { sql, type Kysely } from 'kysely';
import type { Engine } from './engine.js';
import { allMigrations } from './migrations.js';

export interface MigrateResult {
  readonly applied: readonly string[];
}

/**
 * Brings the schema to the latest version. The server start, the CLI and the tests all call this.
 *
 * Our own small runner rather than Kysely's Migrator: the Migrator introspects every table of every schema to
 * find its own, which races with other schemas being dropped on a shared server (parallel test schemas) and
 * failed there. Here all pending migrations run in one transaction behind a lock — an advisory lock on
 * PostgreSQL, the write lock on SQLite — so two processes starting at once apply each migration exactly once,
 * and a crash half-way leaves nothing applied (DDL is transactional on both engines).
 */
export async function migrateToLatest(engine: Engine): Promise<MigrateResult> {
  const db = engine.db as unknown as Kysely<MigrationsDb>;
  await db.schema
    .createTable('pledge_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  return db.transaction().execute(async (trx) => {
    if (engine.kind === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.pledge_migrations'))`.execute(trx);
    // A write statement takes SQLite's write lock at once (waiting up to busy_timeout), before anything is read.
    else await trx.deleteFrom('pledge_migrations').where('name', '=', '').execute();
    const done = new Set((await trx.selectFrom('pledge_migrations').select('name').execute()).map((r) => r.name));
    const applied: string[] = [];
    for (const m of allMigrations) {
      if (done.has(m.name)) continue;
      await m.up(trx as unknown as Kysely<unknown>, engine.kind);
      await trx.insertInto('pledge_migrations').values({ name: m.name, applied_at: new Date().toISOString() }).execute();
      applied.push(m.name);
    }
    return { applied };
  });
}

interface MigrationsDb {
  pledge_migrations: { name: string; applied_at: string };
}
