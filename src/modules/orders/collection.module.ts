import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { DecisionGate } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import { ContactErasure } from '../contacts/contact-erasure.service.js';
import type { ContactMailer } from '../contacts/contact.js';
import { ContactsService } from '../contacts/contacts.service.js';
import type { AccountPrecisionSource } from '../devices/device.js';
import { DevicesService } from '../devices/devices.service.js';
import { SealedService } from '../sealed/sealed.service.js';
import { OrdersService } from './orders.service.js';

export interface CollectionInputs {
  readonly db: Kysely<Database>;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly policy: CompiledPolicy;
  /** The decision engine: precise location is stored only with the precise_location consent. */
  readonly gate: DecisionGate;
  /** The accounts module: the account-level location precision (R-CHO-3). */
  readonly accounts: AccountPrecisionSource;
  /** The e-mail outbox: invitation and erasure codes for shared contacts. */
  readonly mailer: ContactMailer;
}

/** Orders, devices, shared contacts and user-sealed values (issue 3), built together for `Services`. */
export interface CollectionServices {
  readonly orders: OrdersService;
  readonly devices: DevicesService;
  readonly contacts: ContactsService;
  readonly contactErasure: ContactErasure;
  readonly sealed: SealedService;
}

export function createCollectionServices(i: CollectionInputs): CollectionServices {
  const base = { db: i.db, vault: i.vault, audit: i.audit };
  return {
    orders: new OrdersService({ ...base, policy: i.policy }),
    devices: new DevicesService({ ...base, gate: i.gate, accounts: i.accounts }),
    contacts: new ContactsService({ ...base, policy: i.policy, mailer: i.mailer }),
    contactErasure: new ContactErasure({ ...base, mailer: i.mailer }),
    sealed: new SealedService(base),
  };
}
