import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './database.js';

export type EngineKind = 'sqlite' | 'postgres';

/** An open store: the Kysely handle plus what differs between engines. */
export interface Engine {
  readonly kind: EngineKind;
  readonly db: Kysely<Database>;
  /** PostgreSQL only: the pool, for COPY and LISTEN/NOTIFY. */
  readonly pool?: pg.Pool;
  /** SQLite only: the file, for backups and byte scans in tests. */
  readonly file?: string;
  /** SQLite only: the connection under Kysely, for statements prepared once on hot paths (the vault's key store). */
  readonly sqlite?: SQLite.Database;
  close(): Promise<void>;
}

// BIGINT (int8) and NUMERIC come back as strings by default; our counters fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export interface EngineOptions {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** PostgreSQL: the schema to use (tests get a fresh one each). */
  readonly schema?: string;
  readonly poolSize?: number;
}

export function openEngine(options: EngineOptions): Engine {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.schema, options.poolSize ?? 10);
  return openSqlite(path.join(options.dataDir, 'pledge.db'));
}

export function openSqlite(file: string): Engine {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Another process (CLI beside the server) may hold the write lock briefly.
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { kind: 'sqlite', db, file, sqlite, close: () => db.destroy() };
}

export function openPostgres(url: string, schema: string | undefined, max: number): Engine {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kind: 'postgres', db, pool, close: () => db.destroy() };
}
