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
import { median, report } from './report.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AUTHS = 2000;
const SIGN_INS = 20;

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

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;

async function benchEngine(kind: EngineKind): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-'));
  const schema = kind === 'postgres' ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const env: Record<string, string> = { PLEDGE_DATA_DIR: dataDir, PLEDGE_MAIL_DIR: `${dataDir}-mail`, LOG_LEVEL: 'silent' };
  if (schema) {
    if (!(await admin(`create schema ${schema}`))) return report('accounts postgres', 'skipped: PostgreSQL does not answer');
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    env.DATABASE_URL = u.toString();
  }
  const s = await boot({ config: parseConfig(env), ...(schema ? { schema } : {}) });
  try {
    const ctx = { ...systemContext('bench'), ip: '192.0.2.1' };
    const password = 'benchmark passphrase 2026';
    await s.accounts.accounts.signUp(ctx, { name: 'Bench', email: 'bench@example.org', phone: '+4930123456789', postalAddress: { line1: 'Hauptstrasse 1', city: 'Berlin', postalCode: '10115', country: 'DE' }, birthDate: '1990-04-01', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password });
    const signIns: number[] = [];
    let token = '';
    for (let i = 0; i < SIGN_INS; i++) {
      const t0 = performance.now();
      token = (await s.accounts.sessions.signIn(ctx, 'bench@example.org', password)).token;
      signIns.push(performance.now() - t0);
    }
    const auths: number[] = [];
    for (let i = 0; i < AUTHS; i++) {
      const t0 = performance.now();
      if (!(await s.accounts.sessions.authenticate(token))) throw new Error('token not accepted');
      auths.push(performance.now() - t0);
    }
    report(`accounts ${kind}: sign-in (lookup, decrypt, argon2id verify, session, audit)`, `median ${median(signIns).toFixed(1)} ms (${SIGN_INS} sign-ins)`);
    report(`accounts ${kind}: bearer token check per request`, `p50 ${percentile(auths, 0.5).toFixed(3)} ms, p99 ${percentile(auths, 0.99).toFixed(3)} ms (${AUTHS} checks)`);
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

/** R-SEC-4 cost of sign-in: argon2id alone, a whole sign-in, and the per-request token check, on both engines. */
export async function accountsBench(): Promise<void> {
  const hashes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await hashPassword(`password number ${i}`);
    hashes.push(performance.now() - t0);
  }
  report('accounts: argon2id hash (m = 19 MiB, t = 2, p = 1)', `median ${median(hashes).toFixed(1)} ms`);
  await benchEngine('sqlite');
  await benchEngine('postgres');
}
