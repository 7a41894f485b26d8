import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parseConfig } from '../src/internal/config/config.js';
import type { EngineKind } from '../src/internal/db/engine.js';
import { systemContext } from '../src/internal/context.js';
import { boot } from '../src/start/boot.js';
import { stopServices } from '../src/start/services.js';
import { hashPassword } from '../src/modules/accounts/password.js';
import { report } from './report.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LINES = 5000;

async function admin(query: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query(query);
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** 5,000 NDJSON lines with an argon2id `passwordHash` (the fast path: no hashing during the import). */
function ndjson(passwordHash: string): string[] {
  return Array.from({ length: LINES }, (_, i) => JSON.stringify({
    name: `Import Person ${i}`, email: `import.${i}@example.org`, phone: `+4930${String(1_000_000 + i)}`,
    postalAddress: { line1: `Importweg ${i}`, city: 'Berlin', postalCode: '10115', country: 'DE' },
    birthDate: '1990-04-01', region: 'DE', language: 'de-DE', timeZone: 'Europe/Berlin', passwordHash,
  }));
}

async function benchEngine(kind: EngineKind, lines: readonly string[]): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-'));
  const schema = kind === 'postgres' ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const env: Record<string, string> = { PLEDGE_DATA_DIR: dataDir, PLEDGE_MAIL_DIR: `${dataDir}-mail`, LOG_LEVEL: 'silent' };
  if (schema) {
    if (!(await admin(`create schema ${schema}`))) return report('import postgres', 'skipped: PostgreSQL does not answer');
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    env.DATABASE_URL = u.toString();
  }
  const s = await boot({ config: parseConfig(env), ...(schema ? { schema } : {}) });
  try {
    const t0 = performance.now();
    const r = await s.accounts.importer.importLines(systemContext('bench:import'), lines, { batchSize: 500 });
    const seconds = (performance.now() - t0) / 1000;
    if (r.imported !== LINES) throw new Error(`imported ${r.imported} of ${LINES}`);
    report(`import ${kind}: ${LINES} lines with passwordHash, batches of 500`, `${Math.round(LINES / seconds)} subjects/s (${seconds.toFixed(2)} s; goal ≥ 20000/s on PostgreSQL)`);
  } finally {
    await stopServices(s);
    await s.engine.close();
    if (schema) {
      await admin(`drop schema ${schema} cascade`);
      await admin(`drop schema if exists ${schema}_keys cascade`);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `pledge import` throughput (R-ACC-1 bench of issue 3): subjects/s on both engines. */
export async function importBench(): Promise<void> {
  const lines = ndjson(await hashPassword('imported passphrase 2026'));
  for (const kind of ['sqlite', 'postgres'] as const) await benchEngine(kind, lines);
}
