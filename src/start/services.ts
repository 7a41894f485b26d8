import type { Logger } from 'pino';
import type { Config } from '../internal/config/config.js';
import type { Engine } from '../internal/db/engine.js';
import type { CompiledPolicy } from '../modules/policy/policy.js';
import { AuditLog } from '../modules/audit/audit.service.js';

/** Every service of the process, built once at start and shared by HTTP, CLI and jobs. No DI container. */
export interface Services {
  readonly config: Config;
  readonly policy: CompiledPolicy;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly audit: AuditLog;
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
  return { config, policy, engine, logger, audit, stoppers: [] };
}

export async function stopServices(services: Services): Promise<void> {
  for (const stop of services.stoppers.reverse()) await stop();
}
