import type { PledgeMigration } from './migration.js';
import { auditMigrations } from '../../modules/audit/audit.migration.js';
import { telemetryMigrations } from '../../modules/telemetry/telemetry.migration.js';
import { ordersMigrations } from '../../modules/orders/orders.migration.js';
import { devicesMigrations } from '../../modules/devices/devices.migration.js';
import { contactsMigrations } from '../../modules/contacts/contacts.migration.js';
import { sealedMigrations } from '../../modules/sealed/sealed.migration.js';
import { consentMigrations } from '../../modules/consent/consent.migration.js';
import { accountsMigrations } from '../../modules/accounts/accounts.migration.js';
import { outboxMigrations } from '../../modules/notices/outbox.migration.js';
import { rightsMigrations } from '../../modules/rights/rights.migration.js';
import { vaultMigrations } from '../../modules/vault/vault.migration.js';

/** Every module's migrations, in the order they run (names sort the same way). */
export const allMigrations: readonly PledgeMigration[] = [...auditMigrations, ...accountsMigrations, ...outboxMigrations, ...telemetryMigrations, ...ordersMigrations, ...devicesMigrations, ...contactsMigrations, ...sealedMigrations, ...consentMigrations, ...rightsMigrations, ...vaultMigrations].sort((a, b) => a.name.localeCompare(b.name));
