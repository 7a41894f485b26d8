import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { parseConfig } from '../src/internal/config/config.js';
import { systemContext } from '../src/internal/context.js';
import { boot } from '../src/start/boot.js';
import { buildApp } from '../src/http/app.js';
import { buildDecisionsApp } from '../src/http/decisions-app.js';

/**
 * A server process for the HTTP decision benchmark (so autocannon does not share its event loop):
 * `pledge` = the real app on a fresh SQLite store; `bare` = Fastify with one route answering a constant.
 * Prints one JSON line with the port (and the API key and a warm subject for `pledge`).
 */
const mode = process.argv[2];
if (mode === 'bare') {
  const app = Fastify();
  app.post('/v1/decisions', async () => ({ allow: true, reason: 'ALLOWED_CONTRACT', legalBasis: 'contract', policyVersion: '2026.11.1' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
} else {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-'));
  const config = parseConfig({ PLEDGE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, path.resolve(import.meta.dirname, '..'));
  const services = await boot({ config });
  const ctx = systemContext('bench');
  const { secret } = await services.apiKeys.create(services.engine.db, ctx, 'bench');
  const subjects = Array.from({ length: 1000 }, () => randomUUID());
  for (const s of subjects.slice(0, 100)) {
    await services.consent.consents.set(services.engine.db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'api', collectionMethod: 'bench', gpc: false, confirmOverrideGpc: false });
  }
  await services.consent.decisions.decideMany(subjects.map((subjectId) => ({ subjectId, purpose: 'personalised_ads', category: 'user.contact.email' })));
  const app = await buildApp({ services, rateLimit: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const lean = await buildDecisionsApp(services);
  await lean.listen({ port: 0, host: '127.0.0.1' });
  const portOf = (a: ReturnType<typeof app.server.address>): number => (typeof a === 'object' && a ? a.port : 0);
  console.log(JSON.stringify({ port: portOf(app.server.address()), leanPort: portOf(lean.server.address()), key: secret, subjects }));
}
// Exit normally on SIGINT so that `--cpu-prof` can write its profile.
process.once('SIGINT', () => process.exit(0));
