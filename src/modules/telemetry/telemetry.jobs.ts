import { createHash } from 'node:crypto';
import type { Services } from '../../start/services.js';
import type { Config } from '../../internal/config/config.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import { MqttBridge, type DeviceMessageHandler } from './mqtt-bridge.js';
import { startRetentionTimer } from '../retention/retention.service.js';

/** Crash reports arriving on `devices/{id}/crash`: `{ token, body, deviceId?, route? }`. */
export function crashHandler(services: Services): DeviceMessageHandler {
  return async (identity, message) => {
    const ctx: ActorContext = { actor: { type: 'device', id: identity.deviceRef }, requestId: crypto.randomUUID() };
    const { body, deviceId, route } = message.payload;
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    await services.telemetry.crashes.submit(ctx, identity, { body: text(body) ?? '', deviceId: text(deviceId), route: text(route) });
  };
}

/** Identifies the store in the bridge's client ids and shared-subscription group. */
export const bridgeStoreId = (config: Config): string => createHash('sha256').update(config.databaseUrl ?? config.dataDir).digest('hex').slice(0, 10);

export function createBridge(services: Services, url: string, options: { connections?: number; clientPrefix?: string; group?: string } = {}): MqttBridge {
  const storeId = bridgeStoreId(services.config);
  return new MqttBridge({
    url,
    engine: services.engine,
    ingestion: services.telemetry.ingestion,
    tokens: services.telemetry.deviceTokens,
    logger: services.logger,
    crash: crashHandler(services),
    activation: (identity, message) => {
      const handler = services.telemetry.mqttHandlers.activation;
      // Refused (and acknowledged) rather than redelivered forever when no devices module listens.
      if (!handler) return Promise.reject(new AppError('ROUTE_NOT_FOUND', 'Device activation is not served over MQTT here'));
      return handler(identity, message);
    },
    ...options,
    // Stable per store, so a restarted bridge resumes its broker sessions (and gets what it had not acknowledged),
    // and distinct per store, so two deployments on one broker never share sessions.
    clientPrefix: options.clientPrefix ?? `pledge-bridge-${storeId}`,
    group: options.group ?? `pledge-${storeId}`,
  });
}

/** What `pledge serve` runs beside HTTP: the retention timer, and the MQTT bridge when MQTT_URL is set. Each adds its stopper. */
export async function startTelemetryJobs(services: Services): Promise<void> {
  services.stoppers.push(
    startRetentionTimer(services.retention, (r) =>
      services.logger.info({ removed: r.removed, failed: r.failed, steps: r.steps.map((s) => `${s.name}:${s.ok ? s.removed : 'failed'}`) }, 'retention sweep'),
    ),
  );
  const url = services.config.mqttUrl;
  if (url === undefined) return;
  const bridge = createBridge(services, url);
  await bridge.start();
  services.stoppers.push(() => bridge.stop());
}
