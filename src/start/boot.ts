import fs from 'node:fs';
import type { DestinationStream } from 'pino';
import { parseConfig, type Config } from '../internal/config/config.js';
import { openEngine } from '../internal/db/engine.js';
import { migrateToLatest } from '../internal/db/migrate.js';
import { createLogger } from '../internal/logger.js';
import { loadPolicyFile } from '../modules/policy/policy.loader.js';
import { createServices, type Services } from './services.js';

export interface BootOptions {
  readonly config?: Config;
  readonly logDestination?: DestinationStream;
  readonly schema?: string;
}

/**
 * The shared start sequence of server, CLI and tests: config, policy (a bad one stops here),
 * store, migrations, services.
 */
export async function boot(options: BootOptions = {}): Promise<Services> {
  const config = options.config ?? parseConfig();
  const policy = loadPolicyFile(config.policyFile);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const engine = openEngine({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ...(options.schema ? { schema: options.schema } : {}) });
  try {
    await migrateToLatest(engine);
    return await createServices({ config, policy, engine, logger: createLogger(config.logLevel, options.logDestination) });
  } catch (e) {
    await engine.close();
    throw e;
  }
}
