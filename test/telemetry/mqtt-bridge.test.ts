import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { MqttBridge } from '../../src/modules/telemetry/mqtt-bridge.js';
import { systemContext } from '../../src/internal/context.js';
import { MQTT_URL, consentKit, vaultSubject, usageEvents, type ConsentKit } from './support.js';


async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}

describe.each(ENGINES)('MQTT bridge through Mosquitto on %s', (kind) => {
  let stack: TestStack;
  let kit: ConsentKit;
  let bridge: MqttBridge;
  let device: MqttClient;
  const run = randomBytes(4).toString('hex');
  beforeAll(async () => {
    stack = await createStack(kind);
    kit = await consentKit(stack);
    bridge = new MqttBridge({ url: MQTT_URL, engine: stack.services.engine, ingestion: stack.services.telemetry.ingestion, tokens: stack.services.telemetry.deviceTokens, logger: stack.services.logger, connections: 2, clientPrefix: `test-${run}`, group: `g${run}` });
    await bridge.start();
    device = await mqtt.connectAsync(MQTT_URL, { clientId: `dev-${run}`, clean: true });
  });
  afterAll(async () => {
    await device.endAsync();
    await bridge.stop({ forgetSessions: true });
    await kit.stop();
    await stack.close();
  });

  const count = async (model: string) => Number((await stack.services.engine.db.selectFrom('telemetry_events').select((e) => e.fn.countAll().as('n')).where('model', '=', model).executeTakeFirstOrThrow()).n);
  const newDevice = async (opted: boolean) => {
    const subjectId = await vaultSubject(stack);
    const deviceRef = `d${randomBytes(6).toString('hex')}`;
    const model = `m-${randomBytes(6).toString("hex")}`;
    const token = await issueDeviceToken(stack.services.engine.db, systemContext('test'), stack.services.vault, { subjectId, deviceRef, model, firmware: '1.0', region: 'DE' });
    if (opted) await kit.optIn(subjectId);
    return { subjectId, deviceRef, model, token };
  };

  it('R-TEL-2: QoS 1 events of an opted-in device are stored under its pseudonym', async () => {
    const d = await newDevice(true);
    for (let i = 0; i < 5; i++) await device.publishAsync(`devices/${d.deviceRef}/events`, JSON.stringify({ token: d.token, events: usageEvents(4) }), { qos: 1 });
    await until(async () => (await count(d.model)) === 20);
    const rows = await stack.services.engine.db.selectFrom('telemetry_events').selectAll().where('model', '=', d.model).execute();
    expect(JSON.stringify(rows)).not.toContain(d.subjectId);
    expect(JSON.stringify(rows)).not.toContain(d.deviceRef);
  });

  it('R-TEL-2: refusals are published back on devices/{id}/control and nothing is stored', async () => {
    const d = await newDevice(false);
    const control: unknown[] = [];
    device.on('message', (topic, payload) => topic === `devices/${d.deviceRef}/control` && control.push(JSON.parse(payload.toString())));
    await device.subscribeAsync(`devices/${d.deviceRef}/control`, { qos: 1 });
    await device.publishAsync(`devices/${d.deviceRef}/events`, JSON.stringify({ token: d.token, events: usageEvents(2) }), { qos: 1 });
    await device.publishAsync(`devices/${d.deviceRef}/events`, JSON.stringify({ token: 'pdt_forged', events: usageEvents(2) }), { qos: 1 });
    await until(async () => control.length >= 2, 30_000);
    expect(control).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'refused', code: 'CONSENT_MISSING' }), expect.objectContaining({ code: 'DEVICE_TOKEN_INVALID' })]));
    expect(await count(d.model)).toBe(0);
  });

  it('R-TEL-2: a message is acknowledged only after its commit: when the store fails it is redelivered and stored later', async () => {
    const d = await newDevice(true);
    const db = stack.services.engine.db;
    await sql`ALTER TABLE telemetry_events RENAME TO telemetry_events_off`.execute(db);
    try {
      await device.publishAsync(`devices/${d.deviceRef}/events`, JSON.stringify({ token: d.token, events: usageEvents(3) }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      await sql`ALTER TABLE telemetry_events_off RENAME TO telemetry_events`.execute(db);
    }
    await until(async () => (await count(d.model)) === 3, 15_000);
  });
});
