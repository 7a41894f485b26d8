import { AppError } from '../errors/app-error.js';

/** Maps engine errors (PostgreSQL SQLSTATE, SQLite codes) to domain errors in one place. */
export function mapDatabaseError(error: unknown, onUnique: () => AppError): unknown {
  const e = error as { code?: string } | null;
  if (e && typeof e === 'object') {
    if (isUniqueViolation(e)) return onUnique();
    if (e.code === '40001' || e.code === 'SQLITE_BUSY') return new AppError('UNAVAILABLE', 'The store is busy; try again', undefined, { cause: error });
    if (e.code === '57014') return new AppError('UNAVAILABLE', 'The query took too long', undefined, { cause: error });
  }
  return error;
}

/** True for a unique (or primary key) violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
