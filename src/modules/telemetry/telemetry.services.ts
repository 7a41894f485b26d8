import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../internal/db/database.js';
import type { Engine } from '../../internal/db/engine.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { GateSwitch } from './gate-switch.js';
import { TelemetryIngestion } from './ingestion.service.js';
import { Pseudonyms } from './pseudonyms.js';
import { CrashReports, type CrashVault } from './crash.service.js';
import { Insights } from './insights.service.js';
import { Pixels } from './pixels.service.js';
import type { DeviceMessageHandler } from './mqtt-bridge.js';
import type { RetentionSweeper } from '../retention/retention.service.js';
import { registerTelemetrySweeps } from './telemetry.sweeps.js';
import { DeviceTokenCache } from './mqtt-messages.js';
import { sealLegacyDeviceTokens } from './device-tokens.js';
import { purgeTelemetrySubject } from './telemetry.purge.js';

export interface TelemetryInputs {
  readonly engine: Engine;
  readonly policy: CompiledPolicy;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly vault: CrashVault;
  readonly retention: RetentionSweeper;
}

/** Everything of the telemetry module, built once; `gate.use(decisionEngine)` wires the consent module in. */
export interface TelemetryServices {
  readonly gate: GateSwitch;
  readonly pseudonyms: Pseudonyms;
  readonly ingestion: TelemetryIngestion;
  readonly crashes: CrashReports;
  readonly insights: Insights;
  /** E-mail pixels; the outbox calls `pixelFor` per message and `allowance` before sending marketing. */
  readonly pixels: Pixels;
  /** The devices module sets `activation` so that `devices/{id}/activation` messages reach it through the bridge. */
  readonly mqttHandlers: { activation?: DeviceMessageHandler };
  /** Device tokens → identities, opened once per cache entry; shared by HTTP device auth and the MQTT bridge. */
  readonly deviceTokens: DeviceTokenCache;
  /** Account erasure's purge (R-DSR-7) of every telemetry store keyed by the person; per table, the rows removed. */
  purgeSubject(db: Kysely<Database> | Transaction<Database>, subjectId: string): Promise<Record<string, number>>;
}

export function createTelemetryServices(inputs: TelemetryInputs): TelemetryServices {
  const { engine, policy, audit } = inputs;
  const gate = new GateSwitch(policy);
  const pseudonyms = new Pseudonyms(policy.telemetry.pseudonymEpochMs, audit);
  const ingestion = new TelemetryIngestion(engine, policy, gate, pseudonyms);
  const crashes = new CrashReports(engine.db, policy, audit, gate, inputs.vault);
  registerTelemetrySweeps(inputs.retention, policy, pseudonyms, gate);
  const insights = new Insights(engine.db, engine.kind, policy, audit, pseudonyms);
  const pixels = new Pixels(engine.db, policy, audit, gate);
  // Rows issued before migration 0602 hold plaintext until first used; revoked ones never are, so this seals them.
  inputs.retention.registerSweep('telemetry.device_tokens_sealed', async (db) => ({ removed: await sealLegacyDeviceTokens(db, inputs.vault) }));
  const deviceTokens = new DeviceTokenCache(engine.db, inputs.vault);
  const purgeSubject: TelemetryServices['purgeSubject'] = (db, subjectId) => purgeTelemetrySubject(db, pseudonyms, subjectId);
  return { gate, pseudonyms, ingestion, crashes, insights, pixels, mqttHandlers: {}, deviceTokens, purgeSubject };
}
