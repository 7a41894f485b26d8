import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Engine } from '../../internal/db/engine.js';
import type { NewTelemetryEventRow } from './telemetry.table.js';

/** Every column a telemetry event row is written with (COPY and insert alike). */
export const TELEMETRY_COLUMNS = ['pseudonym', 'event', 'fields', 'model', 'firmware', 'region', 'day'] as const;

// COPY text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
const copyValue = (v: string | null | undefined): string =>
  v === null || v === undefined ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

export function copyText(rows: readonly NewTelemetryEventRow[]): string {
  let out = '';
  for (const r of rows) out += `${copyValue(r.pseudonym)}\t${copyValue(r.event)}\t${copyValue(r.fields)}\t${copyValue(r.model)}\t${copyValue(r.firmware)}\t${copyValue(r.region)}\t${copyValue(r.day)}\n`;
  return out;
}

/** COPY … FROM STDIN on one pooled connection: one statement, so the batch commits whole or not at all. */
export async function copyRows(pool: pg.Pool, table: string, columns: readonly string[], text: string): Promise<void> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from([text]), stream);
  } catch (e) {
    failed = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    // A connection that failed mid-COPY is not returned to the pool in an unknown state.
    client.release(failed);
  }
}

const SQLITE_CHUNK = 500;

/**
 * Stores a validated batch: COPY on PostgreSQL, one transaction of multi-row prepared inserts on SQLite.
 * When this resolves the batch is committed; that is the moment a sender may be acknowledged.
 */
export async function insertEvents(engine: Engine, rows: readonly NewTelemetryEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (engine.pool) {
    await copyRows(engine.pool, 'telemetry_events', TELEMETRY_COLUMNS, copyText(rows));
    return;
  }
  await engine.db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += SQLITE_CHUNK) await trx.insertInto('telemetry_events').values(rows.slice(i, i + SQLITE_CHUNK)).execute();
  });
}
