import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { nowIso } from '../../internal/db/columns.js';
import { isUniqueViolation } from '../../internal/db/errors.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { DecisionGate } from '../consent/decision.js';
import type { Vault } from '../vault/vault.service.js';
import { userSubject } from '../orders/orders.service.js';
import type { AccountPrecisionSource, DeviceActivation, DeviceView, StoredLocation } from './device.js';
import { allowedPrecision, locationColumns, locationToStore, recoarsen } from './device-location.js';
import { openDevice, storedLocationOf } from './device.codec.js';
import { assertImei } from './imei.js';
import { KeyedLock } from './keyed-lock.js';
import type { LocationPrecision } from './location.js';
import type { DeviceRow } from './devices.table.js';
import * as repo from './devices.repository.js';
import { issueDeviceToken, revokeDeviceTokens } from '../telemetry/device-tokens.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface DevicesServiceOptions {
  readonly db: Kysely<Database>;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly gate: DecisionGate;
  readonly accounts: AccountPrecisionSource;
}

/**
 * Devices (R-ACC-4, R-USE-7, R-CHO-3). One row per device and owner, updated in place on re-activation,
 * so only the latest location exists; it is coarsened to the precision in force before it is written.
 */
export class DevicesService {
  private readonly perOwner = new KeyedLock();
  /** Told after a commit that revoked a device's telemetry tokens, so that caches of those tokens drop them at once. */
  readonly tokenRevocationListeners: ((deviceRef: string) => void)[] = [];
  constructor(private readonly o: DevicesServiceOptions) {}

  private tokensRevoked(deviceRef: string): void {
    for (const listener of this.tokenRevocationListeners) listener(deviceRef);
  }

  // SQLite runs one connection: a decision or key load made inside a transaction would wait for that
  // same transaction. So every read and decision happens first, and the transaction only writes.

  async activate(ctx: ActorContext, input: DeviceActivation): Promise<DeviceView & { readonly deviceToken?: string }> {
    const subjectId = userSubject(ctx);
    assertImei(input.imei);
    return this.perOwner.run(subjectId, () => this.activateNow(ctx, subjectId, input));
  }

  /**
   * The same event sent by the device itself (MQTT `devices/{id}/activation`), for the owner its token belongs to.
   * A device token speaks only for its own device: `deviceRef` must be the row of `input.deviceId`.
   */
  async activateByDevice(ctx: ActorContext, subjectId: string, deviceRef: string, input: DeviceActivation): Promise<DeviceView & { readonly deviceToken?: string }> {
    assertImei(input.imei);
    return this.perOwner.run(subjectId, async () => {
      if ((await this.findByDeviceId(subjectId, input.deviceId))?.id !== deviceRef) throw new AppError('DEVICE_TOKEN_INVALID', 'The token does not belong to this device');
      return this.activateNow(ctx, subjectId, input);
    });
  }

  private async activateNow(ctx: ActorContext, subjectId: string, input: DeviceActivation, retried = false): Promise<DeviceView & { readonly deviceToken?: string }> {
    try {
      return await this.activateOnce(ctx, subjectId, input);
    } catch (e) {
      // Another process stored this device's first activation meanwhile (the unique index on owner and device id
      // refused ours, and nothing of ours was written): this one is a re-activation of that row.
      if (retried || !isUniqueViolation(e)) throw e;
      return this.activateNow(ctx, subjectId, input, true);
    }
  }

  private async activateOnce(ctx: ActorContext, subjectId: string, input: DeviceActivation): Promise<DeviceView & { readonly deviceToken?: string }> {
    const existing = await this.findByDeviceId(subjectId, input.deviceId);
    const own = existing ? await this.ownPrecision(subjectId, existing.location_precision) : null;
    const account = await this.o.accounts.locationPrecision(subjectId);
    const precision = await allowedPrecision(this.o.gate, subjectId, own ?? account);
    const at = nowIso();
    const id = existing?.id ?? randomUUID();
    const token = await this.o.db.transaction().execute(async (trx) => {
      const sealed = await this.o.vault.encryptFields(trx, subjectId, 'devices', {
        device_id: input.deviceId,
        imei: input.imei,
        model: input.model,
        firmware: input.firmware,
        ...locationColumns(locationToStore(input.location, precision)),
      });
      const fields = { ...sealed, device_id: sealed.device_id!, device_id_index: this.o.vault.blindIndex('device_id', input.deviceId), imei: sealed.imei!, model: sealed.model!, firmware: sealed.firmware!, last_event: input.event, updated_at: at };
      if (existing) await repo.updateDevice(trx, subjectId, id, fields);
      else await repo.insertDevice(trx, { id, subject_id: subjectId, location_precision: null, activated_at: at, ...fields });
      // Ids and precision only: neither the identifiers nor the location ever reach the audit log.
      await this.o.audit.append(trx, ctx, { action: existing ? 'devices.reactivated' : 'devices.activated', subjectId, target: `device:${id}`, details: { event: input.event, precision } });
      // The telemetry credential is shown once: at first activation, and anew after a factory reset.
      if (existing && input.event !== 'factory_reset') return undefined;
      if (existing) await revokeDeviceTokens(trx, id);
      return issueDeviceToken(trx, ctx, this.o.vault, { subjectId, deviceRef: id, model: input.model, firmware: input.firmware, region: null });
    });
    if (existing && token !== undefined) this.tokensRevoked(id);
    const view = await this.view(subjectId, id, account);
    return token === undefined ? view : { ...view, deviceToken: token };
  }

  /** The owner's devices. A stored location finer than the setting in force is coarsened first (safety net). */
  async list(ctx: ActorContext): Promise<DeviceView[]> {
    const subjectId = userSubject(ctx);
    const account = await this.o.accounts.locationPrecision(subjectId);
    const out: DeviceView[] = [];
    for (const row of await repo.listForSubject(this.o.db, subjectId)) {
      const own = await this.ownPrecision(subjectId, row.location_precision);
      await this.recoarsenRow(ctx, subjectId, row.id, own ?? account);
      out.push(await this.view(subjectId, row.id, account));
    }
    return out;
  }

  /** Whether a device is the subject's (for the rights module's screening of a partial erasure). */
  async owns(subjectId: string, id: string): Promise<boolean> {
    return (await repo.byId(this.o.db, subjectId, id)) !== undefined;
  }

  /**
   * R-DSR-2: erases one device of the subject — its identifiers, IMEI, model and location — and revokes its
   * telemetry token so that it can no longer send in the person's name. Idempotent.
   */
  async remove(ctx: ActorContext, subjectId: string, id: string): Promise<void> {
    const revoked = await this.o.db.transaction().execute(async (trx) => {
      const removed = await repo.deleteDevice(trx, subjectId, id);
      if (removed === 0) return false;
      await revokeDeviceTokens(trx, id);
      await this.o.audit.append(trx, ctx, { action: 'devices.erased', subjectId, target: `device:${id}` });
      return true;
    });
    if (revoked) this.tokensRevoked(id);
  }

  /**
   * Account erasure's purge (R-DSR-7), run after the key is shredded: deletes the subject's device rows, already
   * unreadable. Their tokens are the telemetry module's and go in its purge. Idempotent; the rights module audits it.
   */
  purgeSubject(db: Db, subjectId: string): Promise<number> {
    return repo.purgeSubject(db, subjectId);
  }

  /** R-CHO-3: a device's own precision (null follows the account); what is stored is coarsened at once. */
  async setPrecision(ctx: ActorContext, id: string, precision: LocationPrecision | null): Promise<DeviceView> {
    const subjectId = userSubject(ctx);
    const row = await repo.byId(this.o.db, subjectId, id);
    if (!row) throw errors.notFound('The device');
    await this.o.db.transaction().execute(async (trx) => {
      const sealed = await this.o.vault.encryptFields(trx, subjectId, 'devices', { location_precision: precision });
      await repo.updateDevice(trx, subjectId, id, { location_precision: sealed.location_precision, updated_at: nowIso() });
      await this.o.audit.append(trx, ctx, { action: 'devices.precision_set', subjectId, target: `device:${id}`, details: { precision: precision ?? 'account' } });
    });
    await this.recoarsenRow(ctx, subjectId, id, precision ?? (await this.o.accounts.locationPrecision(subjectId)));
    return this.view(subjectId, id);
  }

  /**
   * R-CHO-3 at account level: the accounts module calls this inside the transaction that changes the
   * account's setting, so every device that follows the account has its stored location coarsened (or
   * removed) in the same commit. Everything here runs on `db`; "precise" can never refine a stored point.
   */
  async applyAccountPrecision(db: Db, ctx: ActorContext, subjectId: string, precision: LocationPrecision): Promise<number> {
    if (precision === 'precise') return 0;
    let changed = 0;
    for (const row of await repo.listForSubject(db, subjectId)) {
      if ((await this.ownPrecision(subjectId, row.location_precision, db)) !== null) continue;
      const stored = await storedLocationOf(this.o.vault, db, row);
      const next = recoarsen(stored, precision);
      if (next === stored) continue;
      await this.writeLocation(db, ctx, subjectId, row.id, stored, next);
      changed++;
    }
    return changed;
  }

  /**
   * The sweep behind R-CHO-3 and consent withdrawal: a precise point whose owner no longer has the
   * precise_location consent is coarsened to the setting in force (city at most). Run by the retention
   * sweeper; reads in between already coarsen (see `list`).
   */
  async enforcePreciseConsent(ctx: ActorContext): Promise<{ readonly coarsened: number }> {
    let coarsened = 0;
    for (const row of await repo.withPreciseLocation(this.o.db, 10_000)) {
      const own = await this.ownPrecision(row.subject_id, row.location_precision);
      const wanted = own ?? (await this.o.accounts.locationPrecision(row.subject_id).catch(() => 'city' as const));
      if (await this.recoarsenRow(ctx, row.subject_id, row.id, wanted)) coarsened++;
    }
    return { coarsened };
  }

  /**
   * R-USE-7: the device identifiers of one device for one purpose. The decision gate allows warranty and
   * software licences; surveys need consent; product analysis gets aggregates only; anything else is refused.
   */
  async readIdentifiers(ctx: ActorContext, id: string, purpose: string): Promise<{ deviceId: string; imei: string }> {
    const row = await repo.byIdAnySubject(this.o.db, id);
    if (!row) throw errors.notFound('The device');
    const f = await this.o.vault.decryptFields(this.o.db, row.subject_id, 'devices', { device_id: Buffer.from(row.device_id), imei: Buffer.from(row.imei) }, purpose);
    await this.o.audit.append(this.o.db, { ...ctx, purpose }, { action: 'devices.identifiers_read', subjectId: row.subject_id, target: `device:${id}`, purpose, details: { fields: ['device_id', 'imei'] } });
    return { deviceId: f.device_id!, imei: f.imei! };
  }

  private async recoarsenRow(ctx: ActorContext, subjectId: string, id: string, precision: LocationPrecision): Promise<boolean> {
    const row = await repo.byId(this.o.db, subjectId, id);
    if (!row) return false;
    const stored = await storedLocationOf(this.o.vault, this.o.db, row);
    const next = recoarsen(stored, await allowedPrecision(this.o.gate, subjectId, precision));
    if (next === stored) return false;
    await this.o.db.transaction().execute((trx) => this.writeLocation(trx, ctx, subjectId, id, stored, next));
    return true;
  }

  private async writeLocation(db: Db, ctx: ActorContext, subjectId: string, id: string, stored: StoredLocation | null, next: StoredLocation | null): Promise<void> {
    const sealed = await this.o.vault.encryptFields(db, subjectId, 'devices', locationColumns(next));
    await repo.updateDevice(db, subjectId, id, sealed);
    await this.o.audit.append(db, ctx, { action: 'devices.location_coarsened', subjectId, target: `device:${id}`, details: { from: stored?.precision ?? 'none', to: next?.precision ?? 'removed' } });
  }

  /**
   * Re-activation finds the row by the keyed index of its device id. Rows written before the index existed
   * are opened once (warranty purpose, as before) and indexed, so they stay findable and the next lookup of
   * that owner decrypts nothing.
   */
  private async findByDeviceId(subjectId: string, deviceId: string): Promise<DeviceRow | undefined> {
    const idIndex = this.o.vault.blindIndex('device_id', deviceId);
    const hit = await repo.byIdIndex(this.o.db, subjectId, idIndex);
    if (hit) return hit;
    let found: DeviceRow | undefined;
    for (const row of await repo.withoutIdIndex(this.o.db, subjectId)) {
      const id = await this.o.vault.decrypt(this.o.db, subjectId, 'devices', 'device_id', Buffer.from(row.device_id), 'warranty');
      await repo.setIdIndex(this.o.db, row.id, this.o.vault.blindIndex('device_id', id));
      if (id === deviceId) found ??= row;
    }
    return found;
  }

  private async ownPrecision(subjectId: string, sealed: Uint8Array | null, db: Db = this.o.db): Promise<LocationPrecision | null> {
    if (sealed === null) return null;
    return (await this.o.vault.decrypt(db, subjectId, 'devices', 'location_precision', Buffer.from(sealed), 'provide_service')) as LocationPrecision;
  }

  private async view(subjectId: string, id: string, account?: LocationPrecision): Promise<DeviceView> {
    const row = await repo.byId(this.o.db, subjectId, id);
    if (!row) throw errors.notFound('The device');
    return openDevice(this.o.vault, this.o.db, row, account ?? (await this.o.accounts.locationPrecision(subjectId)));
  }
}
