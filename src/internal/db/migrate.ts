import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './engine.js';
import { allMigrations } from './migrations.js';

export interface MigrateResult {
  readonly applied: readonly string[];
}

/**
 * Brings the schema to the latest version. The server start, the CLI and the tests all call this;
 * Kysely's migrator records what ran and takes a lock, so running it twice (or from two processes) is safe.
 */
export async function migrateToLatest(engine: Engine): Promise<MigrateResult> {
  const provider: MigrationProvider = {
    getMigrations: async () => {
      const out: Record<string, Migration> = {};
      for (const m of allMigrations) out[m.name] = { up: (db) => m.up(db, engine.kind) };
      return out;
    },
  };
  // Kysely looks for its lock table in every schema unless told which: with parallel test schemas on one server it
  // would find another schema's table and skip creating its own ("kysely_migration_lock does not exist").
  const schema = engine.kind === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(engine.db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db: engine.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
