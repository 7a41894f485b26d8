import { randomBytes } from 'node:crypto';
import type { Services } from '../../src/start/services.js';
import { AppError } from '../../src/internal/errors/app-error.js';
import { withAdmin } from '../support/engines.js';

/** Runs a promise expected to fail with an AppError and returns it. */
export async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

/** A schema name for tests that reopen a stack on the same PostgreSQL schema. */
export const freshSchema = (): string => `t_${randomBytes(6).toString('hex')}`;

/** Drops a test schema and the vault's key schema beside it. */
export async function dropSchemas(schema: string | undefined): Promise<void> {
  if (!schema) return;
  await withAdmin(async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS ${schema}_keys CASCADE`);
  });
}

/**
 * Keys in the key store, counting reserved keys (made ahead on SQLite, key-reserve.ts) or not. A background
 * refill adds a batch of reserved keys at any time, so counts of keys written by a test leave them out.
 */
export async function keyRows(services: Services, which: 'all' | 'unreserved' | 'reserved'): Promise<number> {
  let q = services.engine.db.withSchema(services.vault.keyStore.schema).selectFrom('vault_keys').select((eb) => eb.fn.countAll<number>().as('n'));
  if (which === 'unreserved') q = q.where('reserved_at', 'is', null);
  if (which === 'reserved') q = q.where('reserved_at', 'is not', null);
  return Number((await q.executeTakeFirstOrThrow()).n);
}
