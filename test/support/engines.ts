import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { parseConfig, type Config } from '../../src/internal/config/config.js';
import type { EngineKind } from '../../src/internal/db/engine.js';
import { boot } from '../../src/start/boot.js';
import { stopServices, type Services } from '../../src/start/services.js';
import { buildApp } from '../../src/http/app.js';
import type { AppInstance } from '../../src/http/app-instance.js';

export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SQLite always; PostgreSQL when DATABASE_URL is set or a server answers on 127.0.0.1:5432. */
export const ENGINES: readonly EngineKind[] = (await postgresAnswers()) ? ['sqlite', 'postgres'] : ['sqlite'];

export const tmpDir = (prefix = 'pledge-test-'): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Captures every log line the server writes, so tests can assert that no personal value was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface TestStack {
  readonly kind: EngineKind;
  readonly services: Services;
  readonly app: AppInstance;
  readonly config: Config;
  readonly logs: LogCapture;
  /** PostgreSQL: the schema of this stack. */
  readonly schema: string | undefined;
  /** The environment that reproduces this stack in a child process (CLI tests). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export interface StackOptions {
  readonly env?: Record<string, string>;
  readonly rateLimit?: boolean;
  readonly dataDir?: string;
  readonly schema?: string;
}

/** A fresh store (SQLite file in a temp dir, or a fresh PostgreSQL schema) with the app on top. */
export async function createStack(kind: EngineKind, options: StackOptions = {}): Promise<TestStack> {
  const dataDir = options.dataDir ?? tmpDir();
  const schema = kind === 'postgres' ? options.schema ?? `t_${randomBytes(6).toString('hex')}` : undefined;
  if (schema) await withAdmin((c) => c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`));
  const env: Record<string, string> = {
    PLEDGE_DATA_DIR: dataDir,
    PLEDGE_MAIL_DIR: path.join(dataDir, '..', `${path.basename(dataDir)}-mail`),
    LOG_LEVEL: 'info',
    ...(kind === 'postgres' ? { DATABASE_URL: withSearchPath(PG_URL, schema!) } : {}),
    ...options.env,
  };
  const config = parseConfig({ ...env }, path.resolve(import.meta.dirname, '../..'));
  const logs = new LogCapture();
  const services = await boot({ config, logDestination: logs, ...(schema ? { schema } : {}) });
  const app = await buildApp({ services, rateLimit: options.rateLimit ?? false });
  await app.ready();
  return {
    kind,
    services,
    app,
    config,
    logs,
    schema,
    env,
    async close() {
      await app.close();
      await stopServices(services);
      await services.engine.close();
      if (schema && !options.schema) await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_keys CASCADE`));
    },
  };
}

/** A connection string whose sessions use the given schema (for child processes such as the CLI). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
