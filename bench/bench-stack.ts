import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parseConfig } from '../src/internal/config/config.js';
import type { EngineKind } from '../src/internal/db/engine.js';
import { boot } from '../src/start/boot.js';
import { stopServices, type Services } from '../src/start/services.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs one statement as the PostgreSQL superuser; false when PostgreSQL does not answer. */
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

/**
 * The booted services on a fresh store of one engine (a temporary data directory; on PostgreSQL a schema of its
 * own, dropped afterwards with its key schema), handed to `run`. False when PostgreSQL does not answer.
 */
export async function withBenchServices(kind: EngineKind, run: (s: Services) => Promise<void>): Promise<boolean> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-'));
  const schema = kind === 'postgres' ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const env: Record<string, string> = { PLEDGE_DATA_DIR: dataDir, PLEDGE_MAIL_DIR: `${dataDir}-mail`, LOG_LEVEL: 'silent' };
  try {
    if (schema) {
      if (!(await admin(`create schema ${schema}`))) return false;
      const u = new URL(PG_URL);
      u.searchParams.set('options', `-c search_path=${schema}`);
      env.DATABASE_URL = u.toString();
    }
    const s = await boot({ config: parseConfig(env), ...(schema ? { schema } : {}) });
    try {
      await run(s);
      return true;
    } finally {
      await stopServices(s);
      await s.engine.close();
    }
  } finally {
    if (schema) {
      await admin(`drop schema if exists ${schema} cascade`);
      await admin(`drop schema if exists ${schema}_keys cascade`);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(`${dataDir}-mail`, { recursive: true, force: true });
  }
}
