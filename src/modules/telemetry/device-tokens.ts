import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, isAppError } from '../../internal/errors/app-error.js';
import { nowIso } from '../../internal/db/columns.js';
import type { CrashVault } from './crash.service.js';
import type { DeviceTokenRow } from './telemetry.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The vault operations a device token needs (sealing at issue, opening when the identity is cached). */
export type DeviceTokenVault = CrashVault;

/**
 * The token's attributes are opened to let the device use the service it was sold with (contract), not for a
 * consented purpose: the consent check for each event or crash report comes after, with its own refusal.
 */
export const DEVICE_TOKEN_PURPOSE = 'provide_service';

const TABLE = 'device_tokens';

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

const attributes = (input: { model: string; firmware: string; region: string | null }) => ({
  model: input.model.slice(0, 64),
  firmware: input.firmware.slice(0, 64),
  region: input.region === null ? null : input.region.slice(0, 8).toUpperCase(),
});

/**
 * Issues a device token at activation; only its SHA-256 is stored and the token is returned once. Model,
 * firmware and region are sealed under the owner's key (R-CLS-2: joined to a person they are personal).
 * Call it inside the activation's transaction: the activation's audit entry covers the issue.
 *
 * @example const token = await issueDeviceToken(trx, ctx, vault, { subjectId, deviceRef: device.id, model, firmware, region: 'CN' });
 */
export async function issueDeviceToken(db: Db, _ctx: ActorContext, vault: DeviceTokenVault, input: DeviceTokenInput): Promise<string> {
  const token = `pdt_${randomBytes(32).toString('base64url')}`;
  const sealed = await vault.encryptFields(db, input.subjectId, TABLE, attributes(input));
  await db
    .insertInto('device_tokens')
    .values({
      token_hash: hashToken(token),
      subject_id: input.subjectId,
      device_ref: input.deviceRef,
      ...sealed,
      legacy_model: null,
      legacy_firmware: null,
      legacy_region: null,
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

/**
 * Who a token speaks for, with its attributes opened: one decryption, so callers cache the result
 * (`DeviceTokenCache`) rather than call this per message. An erased owner → `SUBJECT_ERASED` (410).
 */
export async function resolveDeviceToken(db: Db, vault: DeviceTokenVault, token: string | undefined): Promise<DeviceIdentity> {
  if (token === undefined || !token.startsWith('pdt_') || token.length > 100) throw new AppError('DEVICE_TOKEN_INVALID');
  const row = await db.selectFrom('device_tokens').selectAll().where('token_hash', '=', hashToken(token)).where('revoked_at', 'is', null).executeTakeFirst();
  if (!row) throw new AppError('DEVICE_TOKEN_INVALID');
  const sealed = row.legacy_model !== null ? await sealLegacyRow(db, vault, row) : row;
  const open = await vault.decryptFields(db, row.subject_id, TABLE, { model: bytes(sealed.model), firmware: bytes(sealed.firmware), region: bytes(sealed.region) }, DEVICE_TOKEN_PURPOSE);
  if (open.model === null || open.firmware === null) throw new AppError('DEVICE_TOKEN_INVALID');
  return { subjectId: row.subject_id, deviceRef: row.device_ref, model: open.model, firmware: open.firmware, region: open.region };
}

/**
 * Seals up to `limit` rows issued before migration 0602 (their plaintext in legacy_* columns) and clears the
 * plaintext; rows of an erased owner just lose it (and are revoked). Each row is its own update, so a crash loses nothing and the
 * next run continues. Returns how many rows no longer hold plaintext.
 */
export async function sealLegacyDeviceTokens(db: Kysely<Database>, vault: DeviceTokenVault, limit = 500): Promise<number> {
  const rows = await db.selectFrom('device_tokens').selectAll().where('legacy_model', 'is not', null).limit(limit).execute();
  let done = 0;
  for (const row of rows) {
    try {
      await sealLegacyRow(db, vault, row);
    } catch (e) {
      if (!isAppError(e) || e.code !== 'SUBJECT_ERASED') throw e;
    }
    done++;
  }
  return done;
}

type SealedColumns = Pick<DeviceTokenRow, 'model' | 'firmware' | 'region'>;

async function sealLegacyRow(db: Db, vault: DeviceTokenVault, row: DeviceTokenRow): Promise<SealedColumns> {
  const clear = { legacy_model: null, legacy_firmware: null, legacy_region: null } as const;
  let sealed: SealedColumns;
  try {
    sealed = await vault.encryptFields(db, row.subject_id, TABLE, attributes({ model: row.legacy_model ?? '', firmware: row.legacy_firmware ?? '', region: row.legacy_region }));
  } catch (e) {
    // The owner's key is gone: the plaintext is all that is left of their device attributes, so it goes, and the
    // token with it (later uses get DEVICE_TOKEN_INVALID, as after the erasure's purge).
    if (isAppError(e) && e.code === 'SUBJECT_ERASED') await db.updateTable('device_tokens').set({ ...clear, revoked_at: row.revoked_at ?? nowIso() }).where('token_hash', '=', row.token_hash).execute();
    throw e;
  }
  // A concurrent first use may have sealed the row already: its ciphertext is as good as ours.
  await db.updateTable('device_tokens').set({ ...sealed, ...clear }).where('token_hash', '=', row.token_hash).where('legacy_model', 'is not', null).execute();
  return sealed;
}

const bytes = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));
