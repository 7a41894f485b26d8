import type { AuditHeadTable, AuditLogTable } from '../../modules/audit/audit.table.js';
import type { DeviceTokensTable, TelemetryEpochsTable, TelemetryEventsTable, TelemetryLinksTable } from '../../modules/telemetry/telemetry.table.js';
import type { AccessLogTable, CrashReportsTable, EmailOpensTable, PixelTokensTable } from '../../modules/telemetry/telemetry-stores.table.js';
import type { PrivacyBudgetDaysTable } from '../../modules/telemetry/insights.table.js';
import type { VaultClaimsTable, VaultKeysTable } from '../../modules/vault/vault.table.js';
import type { OrdersTable } from '../../modules/orders/orders.table.js';
import type { DevicesTable } from '../../modules/devices/devices.table.js';
import type { ContactAcceptFailuresTable, ContactErasureCodesTable, ContactsTable } from '../../modules/contacts/contacts.table.js';
import type { SealedValuesTable } from '../../modules/sealed/sealed.table.js';
import type { ConsentCurrentTable, ConsentEventsTable, ConsentReceiptsTable, ConsentSigningKeysTable, DecisionChangesTable, SubjectStatusTable } from '../../modules/consent/consent.table.js';
import type { ApiKeysTable } from '../../modules/apikeys/apikey.table.js';
import type { AccountsTable, SessionsTable, SignInThrottleTable } from '../../modules/accounts/accounts.table.js';
import type { OutboxTable } from '../../modules/notices/outbox.table.js';
import type { ErasureStepsTable, RightsCorrectionsTable, RightsLegalHoldsTable, RightsRequestTrailTable, RightsRequestsTable } from '../../modules/rights/rights.table.js';

/** Every table of Pledge, one interface; each module owns and declares its own tables. */
export interface Database {
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  accounts: AccountsTable;
  sessions: SessionsTable;
  sign_in_throttle: SignInThrottleTable;
  outbox: OutboxTable;
  telemetry_events: TelemetryEventsTable;
  telemetry_epochs: TelemetryEpochsTable;
  telemetry_links: TelemetryLinksTable;
  device_tokens: DeviceTokensTable;
  crash_reports: CrashReportsTable;
  access_log: AccessLogTable;
  pixel_tokens: PixelTokensTable;
  email_opens: EmailOpensTable;
  privacy_budget_days: PrivacyBudgetDaysTable;
  /** In the key store (KeyStore.schema), never the data store. */
  vault_keys: VaultKeysTable;
  vault_claims: VaultClaimsTable;
  orders: OrdersTable;
  devices: DevicesTable;
  contacts: ContactsTable;
  contact_erasure_codes: ContactErasureCodesTable;
  contact_accept_failures: ContactAcceptFailuresTable;
  sealed_values: SealedValuesTable;
  consent_events: ConsentEventsTable;
  consent_current: ConsentCurrentTable;
  consent_receipts: ConsentReceiptsTable;
  consent_signing_keys: ConsentSigningKeysTable;
  subject_status: SubjectStatusTable;
  decision_changes: DecisionChangesTable;
  api_keys: ApiKeysTable;
  rights_requests: RightsRequestsTable;
  rights_request_trail: RightsRequestTrailTable;
  rights_corrections: RightsCorrectionsTable;
  erasure_steps: ErasureStepsTable;
  rights_legal_holds: RightsLegalHoldsTable;
}
