import { randomUUID } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { PreparedWrite } from '../../internal/db/prepared-write.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { ProfileCorrectionSchemas, SignUpBody } from '../accounts/account.input.js';
import type { AccountCorrection, ProfileUpdater } from '../accounts/profile-updater.js';
import { ContactAddressSchema, ContactEmailSchema, ContactNameSchema, ContactPhoneSchema } from '../contacts/contact.input.js';
import type { ContactCorrection, ContactsService } from '../contacts/contacts.service.js';
import type { DevicesService } from '../devices/devices.service.js';
import { DeliverySchema, OrderAddressSchema } from '../orders/order.input.js';
import type { OrderCorrection, OrdersService } from '../orders/orders.service.js';
import type { PartialEraser, PartialKind, Rectifiers } from './rights.deps.js';
import { parseFieldRef, type DeclineReason } from './rights.js';
import * as repo from './rights.repository.js';

type Owner = 'account' | 'order' | 'contact';

/**
 * Correctable fields (`table.field` as in the policy) → the module that owns them, the key of its correction, and
 * the shape its create route accepts (sign-up, placing an order, sharing a contact): a correction is held to it.
 */
const CORRECTABLE: Readonly<Record<string, { readonly owner: Owner; readonly key: string; readonly shape: TSchema }>> = {
  'accounts.name': { owner: 'account', key: 'name', shape: ProfileCorrectionSchemas.name },
  'accounts.email': { owner: 'account', key: 'email', shape: ProfileCorrectionSchemas.email },
  'accounts.phone': { owner: 'account', key: 'phone', shape: ProfileCorrectionSchemas.phone },
  'accounts.postal_address': { owner: 'account', key: 'postalAddress', shape: ProfileCorrectionSchemas.postalAddress },
  'accounts.language': { owner: 'account', key: 'language', shape: ProfileCorrectionSchemas.language },
  'accounts.time_zone': { owner: 'account', key: 'timeZone', shape: ProfileCorrectionSchemas.timeZone },
  'accounts.birth_date': { owner: 'account', key: 'birthDate', shape: SignUpBody.properties.birthDate },
  'accounts.region': { owner: 'account', key: 'region', shape: SignUpBody.properties.region },
  'orders.billing_address': { owner: 'order', key: 'billingAddress', shape: OrderAddressSchema },
  'orders.delivery': { owner: 'order', key: 'delivery', shape: DeliverySchema },
  'contacts.name': { owner: 'contact', key: 'name', shape: ContactNameSchema },
  'contacts.email': { owner: 'contact', key: 'email', shape: ContactEmailSchema },
  'contacts.phone': { owner: 'contact', key: 'phone', shape: ContactPhoneSchema },
  'contacts.address': { owner: 'contact', key: 'address', shape: ContactAddressSchema },
};

/** A field name of a request with what it corrects; undefined when nothing can be corrected under that name. */
function correctable(name: string): { readonly owner: Owner; readonly key: string; readonly shape: TSchema; readonly record: string | undefined } | undefined {
  const ref = parseFieldRef(name);
  const def = ref && ref.part === undefined ? CORRECTABLE[ref.field] : undefined;
  // The account is one per person and named without an id; an order or a contact must say which.
  if (!ref || !def || (def.owner === 'account') !== (ref.record === undefined)) return undefined;
  return { ...def, record: ref.record };
}

const notWired = (what: string): AppError => new AppError('UNAVAILABLE', `Correcting ${what} is not available in this build`);

/**
 * R-DSR-1 correction of any personal field the person gave us: the account's (through the accounts module's profile
 * update, which normalises, re-seals and re-indexes e-mail and phone, and decides the child flag again for a new
 * birth date or region), an order's billing address or not yet delivered delivery details (orders module), and
 * what they told us about a person they shared with (contacts module, which re-indexes the e-mail). Every value is
 * checked against its create route's shape, then each module checks, normalises and reads what it needs, and only
 * then does one transaction write every change, each module's audit entry and the corrections record (field names
 * and time, never a value), so a refused value leaves nothing applied. The rights service has already checked the
 * step-up (R-DSR-3).
 */
export function fieldRectifiers(m: { readonly db: Kysely<Database>; readonly profile: ProfileUpdater; readonly orders?: OrdersService | undefined; readonly contacts?: ContactsService | undefined }): Rectifiers {
  return {
    async screen(subjectId, fields) {
      const records = new Map<string, { readonly owner: Owner; readonly id: string }>();
      for (const name of fields) {
        const f = correctable(name);
        if (!f) return 'UNREALISTIC';
        if (f.record !== undefined) records.set(`${f.owner}:${f.record}`, { owner: f.owner, id: f.record });
      }
      // Ids only: the owning module says whether the record is the person's, someone else's, or nobody's.
      let reason: DeclineReason | null = fields.length === 0 ? 'UNREALISTIC' : null;
      for (const { owner, id } of records.values()) {
        const state = owner === 'order' ? await m.orders?.ownership(subjectId, id) : await m.contacts?.ownership(subjectId, id);
        if (state === 'not_yours') return 'OTHERS_PRIVACY';
        if (state !== 'ok') reason = 'UNREALISTIC';
      }
      return reason;
    },

    async apply(ctx, subjectId, requestId, corrections, holder) {
      const account: Record<string, unknown> = {};
      const orders = new Map<string, Record<string, unknown>>();
      const contacts = new Map<string, Record<string, unknown>>();
      for (const [name, value] of Object.entries(corrections)) {
        const f = correctable(name);
        if (!f) throw errors.validation(`${name} cannot be corrected`, { field: name });
        if (!Value.Check(f.shape, value)) throw errors.validation(`The new value of ${name} does not have the right shape`, { field: name });
        const into = f.owner === 'account' ? account : upsert(f.owner === 'order' ? orders : contacts, f.record!);
        into[f.key] = value;
      }
      // Read and checked outside the transaction: on SQLite the transaction holds the store's only connection.
      const prepared: PreparedWrite[] = [];
      if (Object.keys(account).length > 0) prepared.push(await m.profile.prepareCorrection(ctx, subjectId, account as AccountCorrection));
      for (const [id, c] of orders) {
        if (!m.orders) throw notWired('orders');
        prepared.push(await m.orders.prepareCorrection(subjectId, id, c as OrderCorrection));
      }
      for (const [id, c] of contacts) {
        if (!m.contacts) throw notWired('shared contacts');
        prepared.push(await m.contacts.prepareCorrection(subjectId, id, c as ContactCorrection));
      }
      // Field and time only: the correction is passed on to recipients later without us keeping either value.
      const at = new Date().toISOString();
      await m.db.transaction().execute(async (trx) => {
        // Only while this runner still holds the request: a runner stalled past its claim must not apply values after
        // another one has closed the request as not applied (resume declines a correction with nothing recorded).
        if (holder !== undefined && !(await repo.updateRequestIf(trx, requestId, { status: ['in_progress', 'extended'], lease: holder }, { updated_at: at }))) {
          throw new AppError('REQUEST_BUSY', 'Another process took this request over');
        }
        for (const p of prepared) await p.write(trx, ctx);
        for (const field of Object.keys(corrections)) await repo.addCorrection(trx, { subject_id: subjectId, request_id: requestId, field, at });
      });
      for (const p of prepared) p.afterCommit?.();
    },
  };
}

function upsert(map: Map<string, Record<string, unknown>>, id: string): Record<string, unknown> {
  const found = map.get(id);
  if (found) return found;
  const made: Record<string, unknown> = {};
  map.set(id, made);
  return made;
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
