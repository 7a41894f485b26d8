import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import { nowIso } from '../../internal/db/columns.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface DeviceTokenInput {
  readonly subjectId: string;
  /** The devices module's row id (not the hardware id). */
  readonly deviceRef: string;
  readonly model: string;
  readonly firmware: string;
  /** Coarse region (country code), or null. */
  readonly region: string | null;
}

/** Who a device token speaks for, and the coarse attributes its events carry. */
export interface DeviceIdentity {
  readonly subjectId: string;
  readonly deviceRef: string;
  readonly model: string;
  readonly firmware: string;
  readonly region: string | null;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Issues a device token at activation; only its SHA-256 is stored and the token is returned once.
 * Call it inside the activation's transaction: the activation's audit entry covers the issue.
 *
 * @example const token = await issueDeviceToken(trx, ctx, { subjectId, deviceRef: device.id, model, firmware, region: 'CN' });
 */
export async function issueDeviceToken(db: Db, _ctx: ActorContext, input: DeviceTokenInput): Promise<string> {
  const token = `pdt_${randomBytes(32).toString('base64url')}`;
  await db
    .insertInto('device_tokens')
    .values({
      token_hash: hashToken(token),
      subject_id: input.subjectId,
      device_ref: input.deviceRef,
      model: input.model.slice(0, 64),
      firmware: input.firmware.slice(0, 64),
      region: input.region === null ? null : input.region.slice(0, 8).toUpperCase(),
      created_at: nowIso(),
      revoked_at: null,
    })
    .execute();
  return token;
}

/** Revokes every token of a device (factory reset, removal). Returns how many were live. */
export async function revokeDeviceTokens(db: Db, deviceRef: string): Promise<number> {
  const res = await db.updateTable('device_tokens').set({ revoked_at: nowIso() }).where('device_ref', '=', deviceRef).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function resolveDeviceToken(db: Db, token: string | undefined): Promise<DeviceIdentity> {
  if (token === undefined || !token.startsWith('pdt_') || token.length > 100) throw new AppError('DEVICE_TOKEN_INVALID');
  const row = await db.selectFrom('device_tokens').selectAll().where('token_hash', '=', hashToken(token)).where('revoked_at', 'is', null).executeTakeFirst();
  if (!row) throw new AppError('DEVICE_TOKEN_INVALID');
  return { subjectId: row.subject_id, deviceRef: row.device_ref, model: row.model, firmware: row.firmware, region: row.region };
}
