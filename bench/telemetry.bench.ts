import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
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
    const subjectId = await services.vault.createSubject(services.engine.db, ctx, 'account');
    const deviceRef = `bench-${i}`;
    await services.consent.consents.change(services.engine.db, ctx, { subjectId, changes: [{ purpose: 'user_experience_program', status: 'given' }], source: 'device', collectionMethod: 'bench' });
    tokens.push({ token: await issueDeviceToken(services.engine.db, ctx, services.vault, { subjectId, deviceRef, model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN' }), deviceRef });
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

// The publishers run in a worker thread (its own event loop) so that publishing does not compete with the bridge
// for one loop; each connection keeps `window` messages in flight and publishes the next on each PUBACK. The broker
// acknowledges publishers at once, so publishers are held at most `ahead` messages ahead of what the bridge has
// handled: Mosquitto drops QoS 1 messages beyond a subscriber's queue (max_queued_messages, default 1,000, seen
// dropping at 1,000 ahead per bridge connection), and an unbounded publisher would measure the broker's drops.
const PUBLISHER = `
const { workerData, parentPort } = require('node:worker_threads');
const mqtt = require('mqtt');
(async () => {
  const { url, run, connections, window, messages, payloads, ahead } = workerData;
  let handled = 0;
  let wake = [];
  parentPort.on('message', (n) => { handled = n; const w = wake; wake = []; w.forEach((f) => f()); });
  const pubs = await Promise.all(Array.from({ length: connections }, (_, i) => mqtt.connectAsync(url, { clientId: 'bench-pub-' + run + '-' + i })));
  parentPort.postMessage('connected');
  let next = 0;
  const t0 = Date.now();
  await Promise.all(pubs.map(async (pub) => {
    const lane = async () => {
      while (next < messages) {
        if (next - handled >= ahead) { await new Promise((r) => wake.push(r)); continue; }
        const p = payloads[next++ % payloads.length];
        await pub.publishAsync(p.topic, p.body, { qos: 1 });
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
  }));
  parentPort.postMessage('published ' + messages + ' in ' + (Date.now() - t0) + ' ms');
  await Promise.all(pubs.map((p) => p.endAsync()));
  parentPort.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Mosquitto's CPU time so far (ms), from /proc; NaN where there is none to read. */
function brokerCpuMs(): number {
  try {
    const pid = fs.readFileSync('/run/mosquitto/mosquitto.pid', 'utf8').trim();
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** MQTT: QoS 1 messages of one event each through Mosquitto and the bridge, until every one is committed. */
async function mqttIngestion(messages: number, connections = Number(process.env.BENCH_BRIDGE_CONNECTIONS ?? 4)): Promise<number> {
  const s = await stack('postgres');
  const run = randomBytes(3).toString('hex');
  const bridge = new MqttBridge({ url: MQTT_URL, engine: s.services.engine, ingestion: s.services.telemetry.ingestion, tokens: s.services.telemetry.deviceTokens, logger: s.services.logger, connections, clientPrefix: `bench-${run}`, group: `bench${run}` });
  const orig = s.services.telemetry.ingestion.ingestMany.bind(s.services.telemetry.ingestion);
  const stats: number[][] = [];
  if (process.env.BENCH_DEBUG) (s.services.telemetry.ingestion as any).ingestMany = async (items: any, now?: number) => { const t = performance.now(); const r = await orig(items, now); stats.push([items.length, performance.now() - t]); return r; };
  await bridge.start();
  const payloads = s.tokens.map((t) => ({ topic: `devices/${t.deviceRef}/events`, body: JSON.stringify({ token: t.token, events: events(1) }) }));
  const worker = new Worker(PUBLISHER, { eval: true, workerData: { url: MQTT_URL, run, connections: 8, window: 250, messages, payloads, ahead: connections * 500 } });
  const published = new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited with ${code}`))));
  });
  await new Promise<void>((resolve) => worker.once('message', () => resolve()));
  worker.on('message', (m) => console.error(m));
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const broker0 = brokerCpuMs();
  const tell = setInterval(() => worker.postMessage(bridge.handled), 5);
  let last = performance.now();
  let progress = { n: 0, at: performance.now() };
  for (let n = 0; (n = await countEvents(s.services)) < messages; ) {
    await new Promise((r) => setTimeout(r, 50));
    if (n > progress.n) progress = { n, at: performance.now() };
    // A broker that dropped messages (see PUBLISHER) would otherwise leave this waiting for ever.
    if (performance.now() - progress.at > 15_000) throw new Error(`stuck at ${n} of ${messages} stored: were messages dropped by the broker?`);
    if (process.env.BENCH_DEBUG && performance.now() - last > 2000) {
      last = performance.now();
      console.error('stored', n, 'handled', bridge.handled);
    }
  }
  const rate = messages / ((performance.now() - t0) / 1000);
  clearInterval(tell);
  // CPU per 1,000 messages, less sensitive to other load than the rate: the bridge's event loop and the broker.
  const busy = performance.eventLoopUtilization(elu0);
  console.error(`per 1,000 messages: bridge loop busy ${((busy.active / messages) * 1000).toFixed(1)} ms, mosquitto CPU ${(((brokerCpuMs() - broker0) / messages) * 1000).toFixed(1)} ms`);
  await published;
  if (process.env.BENCH_DEBUG) console.error('flushes', stats.length, 'avg batch', stats.reduce((a, b) => a + b[0]!, 0) / stats.length, 'avg ms', stats.reduce((a, b) => a + b[1]!, 0) / stats.length);
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
