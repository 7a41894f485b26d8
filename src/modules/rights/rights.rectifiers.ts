import { Value } from '@sinclair/typebox/value';
import { errors } from '../../internal/errors/app-error.js';
import { ProfileCorrectionSchemas } from '../accounts/account.input.js';
import type { ProfileUpdater } from '../accounts/profile-updater.js';
import type { ProfileChanges } from '../accounts/account.js';
import { randomUUID } from 'node:crypto';
import type { ActorContext } from '../../internal/context.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { OrdersService } from '../orders/orders.service.js';
import type { PartialEraser, PartialKind, Rectifiers } from './rights.deps.js';

/** Correctable account fields (`table.field` as in the policy) → the key of the accounts module's profile change. */
const ACCOUNT_FIELDS: Readonly<Record<string, keyof typeof ProfileCorrectionSchemas>> = {
  'accounts.name': 'name',
  'accounts.email': 'email',
  'accounts.phone': 'phone',
  'accounts.postal_address': 'postalAddress',
  'accounts.language': 'language',
  'accounts.time_zone': 'timeZone',
};

/**
 * R-DSR-1 correction of account fields, through the accounts module's own profile update (which normalises,
 * re-seals and re-indexes e-mail and phone), all fields in one update. Values are checked against the same shapes
 * as `PATCH /v1/me` first. The rights service has already checked the step-up (R-DSR-3) before the work starts,
 * so the update is told the person was verified now.
 */
export function accountRectifiers(profile: ProfileUpdater): Rectifiers {
  return {
    fields: new Set(Object.keys(ACCOUNT_FIELDS)),
    check(field, value) {
      const key = ACCOUNT_FIELDS[field];
      if (key === undefined || !Value.Check(ProfileCorrectionSchemas[key], value)) throw errors.validation(`The new value of ${field} does not have the right shape`, { field });
    },
    async apply(ctx, subjectId, corrections) {
      const changes: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(corrections)) changes[ACCOUNT_FIELDS[field]!] = value;
      const now = new Date().toISOString();
      const session = { id: `rights:${ctx.requestId}`, subjectId, createdAt: now, expiresAt: now, verifiedAt: now };
      await profile.update(ctx, session, changes as ProfileChanges);
    },
  };
}

/**
 * R-DSR-2 erasure of a part, through the owning module: a shared contact (the contacts module shreds the
 * contact's own key), a device (the devices module deletes the row and revokes its token), or the delivery
 * details of a delivered order (the orders module removes their ciphertext; the invoice stays under its hold).
 */
export function partialErasers(m: { readonly contacts: ContactsService; readonly devices: DevicesService; readonly orders: OrdersService }): Partial<Record<PartialKind, PartialEraser>> {
  const asPerson = (subjectId: string): ActorContext => ({ actor: { type: 'user', id: subjectId }, requestId: randomUUID(), purpose: 'subject_rights' });
  return {
    contact: {
      // The person's own contacts are those the contacts module lists for them; anything else is "not found".
      check: async (subjectId, id) => ((await m.contacts.list(asPerson(subjectId))).some((c) => c.id === id) ? 'ok' : 'not_found'),
      erase: (ctx, _subjectId, id) => m.contacts.remove(ctx, id),
    },
    device: {
      check: async (subjectId, id) => ((await m.devices.owns(subjectId, id)) ? 'ok' : 'not_found'),
      erase: (ctx, subjectId, id) => m.devices.remove(ctx, subjectId, id),
    },
    order_delivery: {
      check: (subjectId, id) => m.orders.deliveryErasable(subjectId, id),
      erase: (ctx, subjectId, id) => m.orders.eraseDelivery(ctx, subjectId, id),
    },
  };
}
