import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import mqtt from 'mqtt';
import pg from 'pg';
import { parseConfig } from '../src/internal/config/config.js';
import { systemContext } from '../src/internal/context.js';
import { boot } from '../src/start/boot.js';
import { stopServices, type Services } from '../src/start/services.js';
import { buildApp } from '../src/http/app.js';
import { issueDeviceToken } from '../src/modules/telemetry/device-tokens.js';
import { copyRows, copyText } from '../src/modules/telemetry/telemetry.repository.js';
import { MqttBridge } from '../src/modules/telemetry/mqtt-bridge.js';
import type { NewTelemetryEventRow } from '../src/modules/telemetry/telemetry.table.js';
import { report } from './report.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const DEVICES = 100;
const BATCH = 1000;

interface Stack { services: Services; tokens: { token: string; deviceRef: string }[]; close(): Promise<void> }

async function stack(kind: 'sqlite' | 'postgres'): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-bench-tel-'));
  const schema = `bench_tel_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = { PLEDGE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    env.DATABASE_URL = u.toString();
  }
  const services = await boot({ config: parseConfig(env), ...(kind === 'postgres' ? { schema } : {}) });
  const ctx = systemContext('bench');
  const tokens = [];
  for (let i = 0; i < DEVICES; i++) {
    const subjectId = crypto.randomUUID();
    const deviceRef = `bench-${i}`;
    await services.consent.consents.change(services.engine.db, ctx, { subjectId, changes: [{ purpose: 'user_experience_program', status: 'given' }], source: 'device', collectionMethod: 'bench' });
    tokens.push({ token: await issueDeviceToken(services.engine.db, ctx, { subjectId, deviceRef, model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN' }), deviceRef });
  }
  return {
    services,
    tokens,
    async close() {
      await stopServices(services);
      await services.engine.close();
      if (kind === 'postgres') {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const events = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? { event: 'app_open', fields: { screen: 'home' } } : { event: 'feature_used', fields: { feature: `f${i % 9}`, durationMs: 100 + i } }));

async function countEvents(s: Services): Promise<number> {
  return Number((await s.engine.db.selectFrom('telemetry_events').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
}

/** HTTP batch ingestion: autocannon posting 1,000-event batches with device tokens; events/s committed. */
async function httpIngestion(kind: 'sqlite' | 'postgres', seconds: number): Promise<number> {
  const s = await stack(kind);
  const app = await buildApp({ services: s.services, rateLimit: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const body = JSON.stringify(events(BATCH));
  const before = await countEvents(s.services);
  const result = await autocannon(({
    url: `http://127.0.0.1:${port}`,
    connections: 8,
    duration: seconds,
    requests: s.tokens.map((t) => ({ method: 'POST', path: '/v1/telemetry/events', headers: { 'content-type': 'application/json', authorization: `Device ${t.token}` }, body })),
  }) as unknown as autocannon.Options);
  // Let the requests still in flight when the clock stopped finish before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const stored = (await countEvents(s.services)) - before;
  if (result.non2xx > 0) throw new Error(`${result.non2xx} non-2xx answers`);
  await app.close();
  await s.close();
  return stored / seconds;
}

/** The floor: COPY of the same rows, 1,000 per statement, on one connection, no HTTP, no validation. */
async function rawCopy(batches: number): Promise<number> {
  const s = await stack('postgres');
  const rows: NewTelemetryEventRow[] = events(BATCH).map((e) => ({ pseudonym: 'p'.repeat(22), event: e.event, fields: JSON.stringify(e.fields), model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN', day: '2026-11-25' }));
  const text = copyText(rows);
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await copyRows(s.services.engine.pool!, 'telemetry_events', ['pseudonym', 'event', 'fields', 'model', 'firmware', 'region', 'day'], text);
  const rate = (batches * BATCH) / ((performance.now() - t0) / 1000);
  await s.close();
  return rate;
}

/** MQTT: QoS 1 messages of one event each through Mosquitto and the bridge, until every one is committed. */
async function mqttIngestion(messages: number): Promise<number> {
  const s = await stack('postgres');
  const run = randomBytes(3).toString('hex');
  const bridge = new MqttBridge({ url: MQTT_URL, engine: s.services.engine, ingestion: s.services.telemetry.ingestion, logger: s.services.logger, connections: 128, clientPrefix: `bench-${run}`, group: `bench${run}` });
  const orig = s.services.telemetry.ingestion.ingestMany.bind(s.services.telemetry.ingestion);
  const stats: number[][] = [];
  if (process.env.BENCH_DEBUG) (s.services.telemetry.ingestion as any).ingestMany = async (items: any, now?: number) => { const t = performance.now(); const r = await orig(items, now); stats.push([items.length, performance.now() - t]); return r; };
  await bridge.start();
  const pubs = await Promise.all(Array.from({ length: 4 }, (_, i) => mqtt.connectAsync(MQTT_URL, { clientId: `bench-pub-${run}-${i}` })));
  const payloads = s.tokens.map((t) => ({ topic: `devices/${t.deviceRef}/events`, body: JSON.stringify({ token: t.token, events: events(1) }) }));
  const t0 = performance.now();
  const window = 2000;
  for (let sent = 0; sent < messages; sent += window) {
    await Promise.all(Array.from({ length: Math.min(window, messages - sent) }, (_, i) => {
      const p = payloads[(sent + i) % payloads.length]!;
      return pubs[i % pubs.length]!.publishAsync(p.topic, p.body, { qos: 1 });
    }));
  }
  console.error(`published ${messages} in ${Math.round(performance.now() - t0)} ms`);
  while ((await countEvents(s.services)) < messages) await new Promise((r) => setTimeout(r, 20));
  const rate = messages / ((performance.now() - t0) / 1000);
  if (process.env.BENCH_DEBUG) console.error('flushes', stats.length, 'avg batch', stats.reduce((a, b) => a + b[0]!, 0) / stats.length, 'avg ms', stats.reduce((a, b) => a + b[1]!, 0) / stats.length);
  await Promise.all(pubs.map((p) => p.endAsync()));
  await bridge.stop({ forgetSessions: true });
  await s.close();
  return rate;
}

export async function telemetryBench(): Promise<void> {
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const copy = await rawCopy(200);
  const http = await httpIngestion('postgres', 10);
  report('telemetry: raw COPY, 1,000 rows per statement (PostgreSQL)', `${fmt(copy)} rows/s`);
  report('telemetry: HTTP batch ingestion (PostgreSQL, 8 conns)', `${fmt(http)} events/s = ${(http / copy).toFixed(2)}x COPY (goals >= 100,000/s and >= 0.5x)`);
  report('telemetry: HTTP batch ingestion (SQLite, 8 conns)', `${fmt(await httpIngestion('sqlite', 10))} events/s`);
  report('telemetry: MQTT QoS 1 through Mosquitto (1 event/message)', `${fmt(await mqttIngestion(40_000))} messages/s (goal >= 20,000)`);
}

/** For a quick look at one figure: `node --import tsx -e "…telemetryBenchMqttOnly(n)"`. */
export async function telemetryBenchMqttOnly(messages: number): Promise<void> {
  report('telemetry: MQTT QoS 1 through Mosquitto (1 event/message)', `${Math.round(await mqttIngestion(messages)).toLocaleString('en')} messages/s`);
}

export async function telemetryHttpOnly(): Promise<void> {
  report('telemetry: HTTP batch ingestion (PostgreSQL, 8 conns)', `${Math.round(await httpIngestion('postgres', 6)).toLocaleString('en')} events/s`);
}
