import type { Logger } from 'pino';
import { systemContext } from '../internal/context.js';
import type { Config } from '../internal/config/config.js';
import type { Engine } from '../internal/db/engine.js';
import type { CompiledPolicy } from '../modules/policy/policy.js';
import { AuditLog } from '../modules/audit/audit.service.js';
import { createCollectionServices } from '../modules/orders/collection.module.js';
import type { OrdersService } from '../modules/orders/orders.service.js';
import type { DevicesService } from '../modules/devices/devices.service.js';
import type { ContactsService } from '../modules/contacts/contacts.service.js';
import type { ContactErasure } from '../modules/contacts/contact-erasure.service.js';
import type { SealedService } from '../modules/sealed/sealed.service.js';
import type { Vault } from '../modules/vault/vault.service.js';
import { openVault } from '../modules/vault/vault.open.js';
import { createConsentModule, type ConsentModule } from '../modules/consent/consent.module.js';
import type { ApiKeyService } from '../modules/apikeys/apikey.service.js';
import { createTelemetryServices, type TelemetryServices } from '../modules/telemetry/telemetry.services.js';
import { activationHandler } from '../modules/telemetry/mqtt-activation.js';
import { RetentionSweeper } from '../modules/retention/retention.service.js';
import { openRights, type RightsServices } from '../modules/rights/rights.open.js';
import { fieldRectifiers, partialErasers } from '../modules/rights/rights.rectifiers.js';
import { accountFieldEraser } from '../modules/rights/rights.field-eraser.js';
import { createAccountsModule, type AccountsServices } from '../modules/accounts/accounts.module.js';
import { createOutbox } from '../modules/notices/notices.module.js';
import type { Outbox } from '../modules/notices/outbox.service.js';
import { ProductUpdates } from '../modules/notices/product-updates.service.js';

/** Every service of the process, built once at start and shared by HTTP, CLI and jobs. No DI container. */
export interface Services {
  readonly config: Config;
  readonly policy: CompiledPolicy;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly audit: AuditLog;
  /** The only holder of data keys: encrypt, decrypt (with a purpose), blind indexes, shred. */
  readonly vault: Vault;
  /** Decision engine, consent ledger, subject status, receipts, web signals (issue 4). */
  readonly consent: ConsentModule;
  /** Service API keys (x-api-key), only hashes stored (issue 4). */
  readonly apiKeys: ApiKeyService;
  /** Telemetry (issue 6): ingestion, pseudonyms, crash reports, access logs, pixels, aggregates. */
  readonly telemetry: TelemetryServices;
  /** The one retention sweeper; each module adds its stores with `retention.registerSweep(name, fn)`. */
  readonly retention: RetentionSweeper;
  /** Data subject rights (issue 5): requests, access, export, rectification, erasure, restriction. */
  readonly rights: RightsServices;
  /** Accounts (issue 3): sign-up, profiles, sessions (bearer tokens), step-up, profile changes. */
  readonly accounts: AccountsServices;
  /** The e-mail outbox and its delivery worker (SMTP_URL or .eml files). */
  readonly outbox: Outbox;
  /** Product and service updates through the outbox, with the e-mail frequency rule and consented open pixels. */
  readonly productUpdates: ProductUpdates;
  /** Collection (issue 3): orders with card tokens and legal holds, devices, shared contacts, user-sealed values. */
  readonly orders: OrdersService;
  readonly devices: DevicesService;
  readonly contacts: ContactsService;
  readonly contactErasure: ContactErasure;
  readonly sealed: SealedService;
  /** Called on shutdown; each module adds what it must stop (timers, connections). */
  readonly stoppers: (() => Promise<void> | void)[];
}

export interface ServiceInputs {
  readonly config: Config;
  readonly policy: CompiledPolicy;
  readonly engine: Engine;
  readonly logger: Logger;
}

export async function createServices(inputs: ServiceInputs): Promise<Services> {
  const { config, policy, engine, logger } = inputs;
  const audit = new AuditLog(engine.kind, policy);
  const consent = await createConsentModule({ config, policy, engine, audit });
  const vault = await openVault({ config, engine, policy, audit, gate: consent.decisions });
  await consent.receiptSigner.init(engine.db, vault);
  const retention = new RetentionSweeper(engine.db, audit);
  const telemetry = createTelemetryServices({ engine, policy, audit, logger, vault, retention });
  telemetry.gate.use(consent.decisions);
  consent.consents.endListeners.push(async (trx, ctx, subjectId, purpose) => {
    if (purpose === policy.telemetry.purpose) await telemetry.pseudonyms.forget(trx, ctx, subjectId);
  });
  const outbox = createOutbox({ config, engine, policy, vault, logger, retention });
  const accounts = createAccountsModule({ engine, vault, audit, policy, outbox, children: consent.subjectStatus });
  const collection = createCollectionServices({
    db: engine.db, vault, audit, policy, gate: consent.decisions, mailer: outbox,
    accounts: { locationPrecision: (subjectId) => accounts.accounts.locationPrecision(engine.db, subjectId) },
  });
  const productUpdates = new ProductUpdates({ db: engine.db, outbox, audit, tracking: telemetry.pixels, recipients: accounts.accounts, publicUrl: config.publicUrl });
  telemetry.mqttHandlers.activation = activationHandler(collection.devices);
  // This process's token cache forgets a revoked token at once; other processes' caches within their TTL (10 s).
  collection.devices.tokenRevocationListeners.push((deviceRef) => telemetry.deviceTokens.forgetDevice(deviceRef));
  accounts.profile.precisionListeners.push((trx, ctx, subjectId, precision) => collection.devices.applyAccountPrecision(trx, ctx, subjectId, precision).then(() => undefined));
  retention.registerSweep('devices.precise_without_consent', async () => ({ removed: (await collection.devices.enforcePreciseConsent(systemContext('retention'))).coarsened }));
  retention.registerSweep('vault.unclaimed_reserved_keys', async (db, now) => ({ removed: await vault.sweepUnclaimedKeys(db, now) }), { transaction: true });
  retention.registerSweep('contacts.unaccepted', async (_db, now) => ({ removed: (await collection.contacts.expire(systemContext('retention'), now)).expired }));
  outbox.start();
  const stopHousekeeping = accounts.startHousekeeping();
  const rights = openRights({
    db: engine.db, config, policy, audit, vault, ledger: consent.consents, subjectStatus: consent.subjectStatus, accounts: accounts.accounts, sessions: accounts.sessions, outbox,
    orders: collection.orders, devices: collection.devices, contacts: collection.contacts, sealed: collection.sealed, telemetry,
    rectifiers: fieldRectifiers({ db: engine.db, profile: accounts.profile, orders: collection.orders, contacts: collection.contacts }),
    fieldEraser: accountFieldEraser(accounts.profile), partialErasers: partialErasers(collection), retention,
  });
  return { ...collection, config, policy, engine, logger, audit, vault, telemetry, retention, rights, consent, apiKeys: consent.apiKeys, accounts, outbox, productUpdates, stoppers: [() => vault.stop(), () => consent.stop(), () => outbox.stop(), stopHousekeeping] };
}

export async function stopServices(services: Services): Promise<void> {
  for (const stop of services.stoppers.reverse()) await stop();
}
