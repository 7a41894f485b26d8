import type { Command } from 'commander';
import { boot } from '../start/boot.js';
import { stopServices } from '../start/services.js';
import { systemContext } from '../internal/context.js';
import { failAndExit } from './fail.js';
import type { ApiKeyScope } from '../modules/apikeys/apikey.service.js';

/** `pledge apikey …`: service API keys for the decision API. The key is printed once and never stored. */
export function registerApiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description('service API keys (x-api-key)');

  apikey
    .command('create')
    .description('create a key and print it once')
    .requiredOption('--name <name>', 'who will use it, e.g. shop')
    .option('--scope <scope>', 'service (decision API, aggregates) or admin (also the staff routes under /v1/admin)', 'service')
    .action(async (opts: { name: string; scope: string }) => {
      const services = await boot().catch(failAndExit);
      try {
        const { apiKey, secret } = await services.apiKeys.create(services.engine.db, systemContext('cli:apikey'), opts.name, opts.scope as ApiKeyScope);
        console.log(secret);
        console.error(`API key ${apiKey.id} "${apiKey.name}" (${apiKey.scope}) created; it is shown only this once.`);
      } catch (e) {
        failAndExit(e);
      } finally {
        await stopServices(services);
        await services.engine.close();
      }
    });

  apikey
    .command('list')
    .description('list keys (never the secret)')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      try {
        for (const k of await services.apiKeys.list(services.engine.db)) console.log(`${k.id}  ${k.name}  ${k.scope}  ${k.prefix}…  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ''}`);
      } finally {
        await stopServices(services);
        await services.engine.close();
      }
    });

  apikey
    .command('revoke <id>')
    .description('revoke a key at once')
    .action(async (id: string) => {
      const services = await boot().catch(failAndExit);
      try {
        await services.apiKeys.revoke(services.engine.db, systemContext('cli:apikey'), id);
        console.log(`API key ${id} revoked`);
      } catch (e) {
        failAndExit(e);
      } finally {
        await stopServices(services);
        await services.engine.close();
      }
    });
}
