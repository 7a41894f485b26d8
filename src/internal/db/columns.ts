import type { ColumnDataType } from 'kysely';
import type { EngineKind } from './engine.js';

/** Column types that differ between the engines; everything else is portable SQL. */
export function columnTypes(kind: EngineKind) {
  return {
    bytes: (kind === 'postgres' ? 'bytea' : 'blob') as ColumnDataType,
    bigint: 'bigint' as ColumnDataType,
    text: 'text' as ColumnDataType,
    integer: 'integer' as ColumnDataType,
  };
}

/** Timestamps are ISO-8601 UTC text on both engines: sortable, portable, readable in a dump. */
export const nowIso = (): string => new Date().toISOString();
