import type { Services } from './services.js';
import { stopServices } from './services.js';
import { buildApp } from '../http/app.js';
import { buildDecisionsApp } from '../http/decisions-app.js';
import { startTelemetryJobs } from '../modules/telemetry/telemetry.jobs.js';

/** Runs the HTTP service until SIGINT/SIGTERM, then stops cleanly. */
export async function serve(services: Services): Promise<void> {
  const app = await buildApp({ services });
  const { port, host } = services.config;
  const address = await app.listen({ port, host });
  services.logger.info({ engine: services.engine.kind, policy: services.policy.version }, `Pledge listening on ${address}`);
  if (services.config.decisionsPort !== undefined) {
    // The decision API alone on an internal port (PLEDGE_DECISIONS_PORT), for other services.
    const decisions = await buildDecisionsApp(services);
    const at = await decisions.listen({ port: services.config.decisionsPort, host });
    services.stoppers.push(() => decisions.close());
    services.logger.info(`Pledge decision API listening on ${at}`);
  }
  // The MQTT bridge (when MQTT_URL is set) and the retention timer; each registers its stopper.
  await startTelemetryJobs(services);
  const stop = async (): Promise<void> => {
    await app.close();
    await stopServices(services);
    await services.engine.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
