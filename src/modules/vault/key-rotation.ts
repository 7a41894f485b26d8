import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { KeyStore } from './key-store.js';
import { dekContext, type KeyProvider } from './vault.js';

export interface RotationOptions {
  readonly batchSize?: number;
  /** Wait before the final sweep, so every process has seen the new version (providers re-read within 1 s). */
  readonly graceMs?: number;
  /** Test hook: sleep between batches so a test can kill the process half-way. */
  readonly pauseMs?: number;
  readonly onStart?: (info: { readonly toVersion: number; readonly total: number; readonly resumed: boolean }) => void;
  readonly onProgress?: (done: number) => void;
}

/** What a rotation did; it never throws for one bad key, it reports it (and then does not retire that version). */
export interface RotationResult {
  readonly toVersion: number;
  readonly resumed: boolean;
  readonly rewrapped: number;
  readonly failed: number;
  readonly retired: readonly number[];
  /** Old versions still holding keys (because some failed to re-wrap): run again after fixing. */
  readonly remaining: readonly number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Online KEK rotation (R-SEC-4): a new KEK version, then every DEK still wrapped by an older version is
 * re-wrapped, one transaction per batch. The state lives in the rows themselves (their kek_version), so a
 * crash at any point is resumed by running it again: a rotation finding outdated keys finishes the current
 * version instead of creating another. Old versions are retired once no key uses them.
 */
export async function rotateKeys(
  props: { readonly db: Kysely<Database>; readonly keys: KeyProvider; readonly keyStore: KeyStore; readonly audit: AuditLog; readonly ctx: ActorContext },
  options: RotationOptions = {},
): Promise<RotationResult> {
  const { db, keys, keyStore } = props;
  const batchSize = options.batchSize ?? 500;
  let current = await keys.currentVersion();
  const outdated = (counts: Map<number, number>) => [...counts].filter(([v]) => v < current).reduce((n, [, c]) => n + c, 0);
  let total = outdated(await keyStore.countByVersion(db));
  const resumed = total > 0;
  if (!resumed) {
    current = await keys.rotate();
    total = outdated(await keyStore.countByVersion(db));
  }
  options.onStart?.({ toVersion: current, total, resumed });
  let rewrapped = 0;
  const failedIds = new Set<string>();
  const sweep = async () => {
    for (;;) {
      const batch = (await keyStore.outdatedBatch(db, current, batchSize + failedIds.size)).filter((r) => !failedIds.has(r.subject_id)).slice(0, batchSize);
      if (batch.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const row of batch) {
          if (row.wrapped_dek === null || row.kek_version === null) continue; // shredded meanwhile
          const context = dekContext(row.subject_id);
          try {
            const dek = await keys.unwrap(row.wrapped_dek, row.kek_version, context);
            const next = await keys.wrap(dek, context);
            await keyStore.rewrap(trx, row.subject_id, row.kek_version, next.wrapped, next.kekVersion);
            rewrapped++;
          } catch {
            failedIds.add(row.subject_id);
          }
        }
      });
      options.onProgress?.(rewrapped);
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  await sweep();
  // A process that had not yet re-read the key ring may have wrapped a new DEK with the old version.
  await sleep(options.graceMs ?? 5000);
  await sweep();
  const counts = await keyStore.countByVersion(db);
  const retired: number[] = [];
  for (const v of await keys.versions()) {
    if (v.version < current && v.retiredAt === null && (counts.get(v.version) ?? 0) === 0) {
      await keys.retire(v.version);
      retired.push(v.version);
    }
  }
  const remaining = [...counts.keys()].filter((v) => v < current);
  await props.audit.append(db, props.ctx, {
    action: 'vault.keys_rotated',
    details: { toVersion: current, resumed, rewrapped, failed: failedIds.size, retired, remaining },
  });
  return { toVersion: current, resumed, rewrapped, failed: failedIds.size, retired, remaining };
}
