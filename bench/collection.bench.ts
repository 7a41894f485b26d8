import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseConfig } from '../src/internal/config/config.js';
import { boot } from '../src/start/boot.js';
import { stopServices, type Services } from '../src/start/services.js';
import type { ActorContext } from '../src/internal/context.js';
import { coarsen } from '../src/modules/devices/location.js';
import { report } from './report.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ctx = (id: string): ActorContext => ({ actor: { type: 'user', id }, requestId: randomUUID() });
const N = 300;

async function withStack(kind: 'sqlite' | 'postgres', fn: (s: Services) => Promise<void>): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-collection-'));
  const schema = `b_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  if (kind === 'postgres') {
    try {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
    } catch {
      report(`collection (${kind})`, 'skipped: PostgreSQL does not answer');
      return;
    }
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const config = parseConfig({ PLEDGE_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(kind === 'postgres' ? { DATABASE_URL: url.toString() } : {}) });
  const services = await boot({ config, ...(kind === 'postgres' ? { schema } : {}) });
  try {
    await fn(services);
  } finally {
    await stopServices(services);
    await services.engine.close();
    if (kind === 'postgres') {
      await admin.query(`DROP SCHEMA ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_keys CASCADE`);
      await admin.end();
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const address = { name: 'Bench Buyer', line1: '1 Main St', postalCode: '10115', city: 'Berlin', country: 'DE' };

/** Orders placed (tokenised, 7 sealed fields, audited) and device re-activations (coarsened, sealed, audited) per second. */
export async function collectionBench(): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < 200_000; i++) coarsen({ lat: (i % 180) - 89.5, lon: (i % 360) - 179.5 }, i % 2 ? 'city' : 'region');
  report('location coarsening (in process)', `${Math.round(200_000 / ((performance.now() - t0) / 1000)).toLocaleString('en')} points/s`);
  for (const kind of ['sqlite', 'postgres'] as const) {
    await withStack(kind, async (s) => {
      const id = await s.accounts.accounts.signUp(ctx('anonymous'), {
        name: 'Bench Buyer', email: `bench.${randomUUID()}@example.org`, phone: `+49151${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
        postalAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' }, birthDate: '1990-01-01', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password: 'bench passphrase long',
      });
      let start = performance.now();
      for (let i = 0; i < N; i++) {
        await s.orders.place(ctx(id), {
          currency: 'EUR', items: [{ sku: 'AP', title: 'Air purifier', quantity: 1, unitPriceCents: 19900 }], delivery: { address }, billingAddress: address,
          bankAccount: { holder: 'Bench Buyer', iban: 'DE89370400440532013000' }, card: { number: '4111111111111111' },
        });
      }
      report(`POST order via service, ${N} sequential (${kind})`, `${Math.round(N / ((performance.now() - start) / 1000))} orders/s`);
      await s.devices.activate(ctx(id), { event: 'activation', deviceId: 'BENCH-1', imei: '356938035643809', model: 'P2', firmware: '1', location: { lat: 52.52, lon: 13.4 } });
      start = performance.now();
      for (let i = 0; i < N; i++) {
        await s.devices.activate(ctx(id), { event: 'firmware_update', deviceId: 'BENCH-1', imei: '356938035643809', model: 'P2', firmware: String(i), location: { lat: 52.52 + i / 1000, lon: 13.4 } });
      }
      report(`device re-activation via service, ${N} sequential (${kind})`, `${Math.round(N / ((performance.now() - start) / 1000))} activations/s`);
    });
  }
}
