import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Config } from '../../internal/config/config.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import type { ConsentLedger } from '../consent/consent.service.js';
import type { SubjectStatusService } from '../consent/subject-status.service.js';
import type { Accounts } from '../accounts/accounts.service.js';
import type { Sessions } from '../accounts/sessions.service.js';
import type { OrdersService } from '../orders/orders.service.js';
import type { DevicesService } from '../devices/devices.service.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import type { SealedService } from '../sealed/sealed.service.js';
import type { Outbox } from '../notices/outbox.service.js';
import type { RetentionSweeper } from '../retention/retention.service.js';
import type { TelemetryServices } from '../telemetry/telemetry.services.js';
import type { ActorContext } from '../../internal/context.js';
import type { DeclineReason, PartialTarget } from './rights.js';

/**
 * What the rights module works through: the services of the modules that own the data. A module that is
 * not wired (absent in this build) is left out of the work, and the export says which stores it could not read.
 */
export interface RightsDeps {
  readonly db: Kysely<Database>;
  readonly config: Config;
  readonly policy: CompiledPolicy;
  readonly audit: AuditLog;
  readonly vault: Vault;
  readonly ledger?: ConsentLedger | undefined;
  readonly subjectStatus?: SubjectStatusService | undefined;
  readonly accounts?: Accounts | undefined;
  /** Account erasure ends every session through it. */
  readonly sessions?: Sessions | undefined;
  readonly orders?: OrdersService | undefined;
  readonly devices?: DevicesService | undefined;
  readonly contacts?: ContactsService | undefined;
  readonly sealed?: SealedService | undefined;
  readonly outbox?: Outbox | undefined;
  /** Account erasure's purge removes the person's telemetry rows (links, logs, pixels, crash reports, device tokens) through it. */
  readonly telemetry?: Pick<TelemetryServices, 'purgeSubject'> | undefined;
  /** When given, the export sweep is registered with it (expired export files are deleted by the retention run). */
  readonly retention?: RetentionSweeper | undefined;
  /** Corrections (`accounts.email`, `orders.billing_address:<id>`, …), checked and applied together through the owning modules' services. */
  readonly rectifiers?: Rectifiers | undefined;
  /** Optional fields of the account, erased on their own through the accounts module. */
  readonly fieldEraser?: FieldEraser | undefined;
  /** Per kind of part (device, contact, order delivery): erases it through the owning module; false when not the person's. */
  readonly partialErasers?: Readonly<Partial<Record<PartialKind, PartialEraser>>> | undefined;
  /** Rows per page when the access view and the export walk orders, legal holds and accesses (default 1,000; tests cross pages with less). */
  readonly exportPageSize?: number | undefined;
}

/**
 * R-DSR-1 corrections (field names as `FieldRef`): every new value is checked and every record read before one
 * transaction writes them all with the corrections record, so a refused value never leaves the others half-applied.
 */
export interface Rectifiers {
  /** Screening (R-DSR-4): null when every field can be corrected; UNREALISTIC for none such, OTHERS_PRIVACY for another person's record. */
  screen(subjectId: string, fields: readonly string[]): Promise<DeclineReason | null>;
  /** Throws the owning module's AppError (VALIDATION_FAILED naming the field, ACCOUNT_EXISTS, ORDER_DELIVERED, …) with nothing applied. */
  /** `holder`, when given: the corrections commit only while this runner still holds the request's claim. */
  apply(ctx: ActorContext, subjectId: string, requestId: string, corrections: Readonly<Record<string, unknown>>, holder?: string): Promise<void>;
}

/** R-DSR-2, part: fields of the account erased on their own (names as `FieldRef`). */
export interface FieldEraser {
  /** Screening: null when every field may go, UNREALISTIC for one we do not hold; throws FIELD_REQUIRED for one the account needs. */
  screen(fields: readonly string[]): DeclineReason | null;
  erase(ctx: ActorContext, subjectId: string, fields: readonly string[]): Promise<void>;
}
export type PartialKind = PartialTarget['kind'];
export interface PartialEraser {
  /**
   * Screening: is it there, is it the person's? A part that may not go yet throws the owning module's AppError
   * (a delivery address before delivery: ORDER_NOT_DELIVERED, 409), so the person learns what to wait for.
   */
  check(subjectId: string, id: string): Promise<'ok' | 'not_found' | 'not_yours'>;
  erase(ctx: ActorContext, subjectId: string, id: string): Promise<void>;
}
