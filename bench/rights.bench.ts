import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { parseConfig } from '../src/internal/config/config.js';
import { boot } from '../src/start/boot.js';
import { stopServices, type Services } from '../src/start/services.js';
import type { ActorContext } from '../src/internal/context.js';
import { Accounts } from '../src/modules/accounts/accounts.service.js';
import { OrdersService } from '../src/modules/orders/orders.service.js';
import { collect } from '../src/modules/rights/rights.collector.js';
import { writeExport } from '../src/modules/rights/rights.export.js';
import { shredStep } from '../src/modules/rights/rights.eraser.js';
import { median, report } from './report.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ctx = (id: string): ActorContext => ({ actor: { type: 'user', id }, requestId: randomUUID() });

async function stackFor(kind: 'sqlite' | 'postgres'): Promise<{ services: Services; done: () => Promise<void> } | undefined> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-rights-'));
  const schema = `b_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  if (kind === 'postgres') {
    try {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
    } catch {
      return undefined;
    }
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const config = parseConfig({ PLEDGE_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(kind === 'postgres' ? { DATABASE_URL: url.toString() } : {}) });
  const services = await boot({ config, ...(kind === 'postgres' ? { schema } : {}) });
  return {
    services,
    done: async () => {
      await stopServices(services);
      await services.engine.close();
      if (kind === 'postgres') {
        await admin.query(`DROP SCHEMA ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_keys CASCADE`);
        await admin.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A person with an account, `orders` orders, and consent events and audit entries making up `records` in all. */
async function seed(s: Services, records: number, orders: number): Promise<string> {
  const accounts = new Accounts(s.engine.db, s.vault, s.audit, s.policy, undefined);
  const id = await accounts.signUp(ctx('anonymous'), {
    name: 'Bench Person', email: `bench.${randomUUID()}@example.org`, phone: `+49151${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
    postalAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' }, birthDate: '1990-01-01', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password: 'bench passphrase long',
  });
  const shop = new OrdersService({ db: s.engine.db, vault: s.vault, audit: s.audit, policy: s.policy });
  for (let i = 0; i < orders; i++) {
    await shop.place(ctx(id), { currency: 'EUR', items: [{ sku: 'AP', title: 'Air purifier', quantity: 1, unitPriceCents: 19900 }], delivery: { address: { name: 'B', line1: '1', postalCode: '10115', city: 'Berlin', country: 'DE' } }, billingAddress: { name: 'B', line1: '1', postalCode: '10115', city: 'Berlin', country: 'DE' }, card: { number: '4111111111111111' } });
  }
  // Consent history as an import would write it (the ledger's rows; signing 100k receipts is not what is measured).
  const events = records - orders;
  // One event a minute or so, going back in time: a long consent history, as the ledger would hold it.
  const start = Date.now() - events * 60_000;
  for (let i = 0; i < events; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, events - i) }, (_, j) => ({
      id: randomUUID(), subject_id: id, purpose: 'marketing_messages', status: (i + j) % 2 ? 'given' : 'withdrawn', policy_version: s.policy.version, policy_hash: s.policy.hash,
      source: 'app', collection_method: 'bench_import', at: new Date(start + (i + j) * 60_000).toISOString(), receipt_id: randomUUID(),
    }));
    await s.engine.db.insertInto('consent_events').values(rows).execute();
  }
  // What autovacuum does within a minute of a bulk load; without it the planner still believes the table is tiny.
  if (s.engine.kind === 'postgres') await sql`ANALYZE consent_events`.execute(s.engine.db);
  return id;
}

async function exportOnce(s: Services, id: string): Promise<{ ms: number; extraMb: number; items: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const { items } = await writeExport(path.join(s.config.dataDir, 'exports'), randomUUID(), collect(s.rights.deps, id));
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, extraMb: (peak - before) / 1024 / 1024, items };
}

/** R-DSR-6 / R-DSR-7 goals: export of 100k records ≤ 3 s and ≤ 64 MB extra RSS; the shred step ≤ 50 ms at 1 and 100k records. */
export async function rightsBench(): Promise<void> {
  for (const kind of ['sqlite', 'postgres'] as const) {
    const stack = await stackFor(kind);
    if (!stack) {
      report(`rights (${kind})`, 'skipped: PostgreSQL does not answer');
      continue;
    }
    const s = stack.services;
    const bigs = [await seed(s, 100_000, 200), await seed(s, 100_000, 0), await seed(s, 100_000, 0)];
    const smalls = [await seed(s, 1, 1), await seed(s, 1, 1), await seed(s, 1, 1)];
    const runs = [await exportOnce(s, bigs[0]!), await exportOnce(s, bigs[0]!), await exportOnce(s, bigs[0]!)];
    // A store whose module is not wired exports nothing: say so instead of reporting a meaningless time.
    const complete = runs[0]!.items >= 100_000 ? '' : ' INCOMPLETE: not every store was exported';
    report(`rights export, 100k records (${kind})`, `${median(runs.map((r) => r.ms)).toFixed(0)} ms, peak +${Math.max(...runs.map((r) => r.extraMb)).toFixed(1)} MB RSS, ${runs[0]!.items} items (goal <= 3000 ms, <= 64 MB)${complete}`);
    for (const [label, ids] of [['1 record', smalls], ['100k records', bigs]] as const) {
      const times: number[] = [];
      for (const id of ids) {
        const t0 = performance.now();
        await shredStep(s.rights.deps, ctx(id), randomUUID(), id, new Date().toISOString());
        times.push(performance.now() - t0);
      }
      report(`rights shred step, ${label} (${kind})`, `${median(times).toFixed(1)} ms median of 3 people (goal <= 50 ms)`);
    }
    await stack.done();
  }
}
