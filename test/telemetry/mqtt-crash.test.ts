import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { createBridge } from '../../src/modules/telemetry/telemetry.jobs.js';
import type { MqttBridge } from '../../src/modules/telemetry/mqtt-bridge.js';
import { systemContext, type ActorContext } from '../../src/internal/context.js';
import { leaks } from '../collection/support.js';
import { MQTT_URL, until, vaultSubject } from './support.js';


const CRASH = `FATAL EXCEPTION: main (fan 2.4.1)
  at zhimi.fan.MotorControl.step(MotorControl.c:88)
paired by mei.chen77@qq.com +86 138 0013 8000 at 198.51.100.23, IMEI 490154203237518`;

describe.each(ENGINES)('crash reports over MQTT (devices/{id}/crash) through Mosquitto on %s', (kind) => {
  let stack: TestStack;
  let bridge: MqttBridge;
  let device: MqttClient;
  const control: { topic: string; body: Record<string, unknown> }[] = [];
  const run = randomBytes(4).toString('hex');
  const staff: ActorContext = { actor: { type: 'staff', id: 'diag-mqtt' }, requestId: 'r-mqtt' };

  beforeAll(async () => {
    stack = await createStack(kind);
    // The bridge as `pledge serve` and `pledge mqtt-bridge` build it, with the crash handler of telemetry.jobs.
    bridge = createBridge(stack.services, MQTT_URL, { connections: 1, clientPrefix: `crash-${run}`, group: `crash${run}` });
    await bridge.start();
    device = await mqtt.connectAsync(MQTT_URL, { clientId: `crash-dev-${run}`, clean: true });
    device.on('message', (topic, payload) => control.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  });
  afterAll(async () => {
    await device?.endAsync();
    await bridge?.stop({ forgetSessions: true });
    await stack?.close();
  });

  async function newDevice() {
    const subjectId = await vaultSubject(stack);
    const deviceRef = `crash-${randomBytes(6).toString('hex')}`;
    const model = `zhimi.fan.${randomBytes(4).toString('hex')}`;
    const token = await issueDeviceToken(stack.services.engine.db, systemContext('test'), stack.services.vault, { subjectId, deviceRef, model, firmware: '2.4.1', region: 'CN' });
    await device.subscribeAsync(`devices/${deviceRef}/control`, { qos: 1 });
    return { subjectId, deviceRef, model, token };
  }
  const reportsOf = (subjectId: string) => stack.services.engine.db.selectFrom('crash_reports').selectAll().where('subject_id', '=', subjectId).execute();

  it('R-TEL-3, R-CLS-3: a crash report published to devices/{id}/crash is stored with its free text redacted and device id and route sealed', async () => {
    const d = await newDevice();
    await device.publishAsync(`devices/${d.deviceRef}/crash`, JSON.stringify({ token: d.token, body: CRASH, deviceId: 'HW-5521-QRS', route: '10.8.0.1 > 100.64.9.9 > 198.51.100.1' }), { qos: 1 });
    const [row] = await until(async () => {
      const rows = await reportsOf(d.subjectId);
      return rows.length > 0 ? rows : undefined;
    });
    expect(row!.body).toContain('paired by [email] [phone] at [ip], IMEI [imei]');
    expect(row!.body).toContain('MotorControl.c:88');
    expect(JSON.parse(row!.pii_counts)).toEqual({ email: 1, phone: 1, imei: 1, card: 0, ip: 1 });
    const raw = JSON.stringify(row) + Buffer.from(row!.device_id!).toString('latin1') + Buffer.from(row!.route!).toString('latin1');
    for (const secret of ['mei.chen77@qq.com', '490154203237518', '198.51.100.23', 'HW-5521-QRS', '100.64.9.9']) expect(raw).not.toContain(secret);
    expect(leaks(stack, ['mei.chen77@qq.com', 'HW-5521-QRS', d.model])).toEqual([]);
    // Staff read it back for crash diagnostics: the sealed values are whole; MQTT carries no client IP.
    const report = await stack.services.telemetry.crashes.read(staff, row!.id, 'crash_diagnostics');
    expect(report).toMatchObject({ deviceId: 'HW-5521-QRS', route: '10.8.0.1 > 100.64.9.9 > 198.51.100.1', ip: null, model: d.model, firmware: '2.4.1' });
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['action', 'actor']).where('target', '=', row!.id).orderBy('seq').execute();
    expect(audit).toEqual([{ action: 'telemetry.crash_received', actor: `device:${d.deviceRef}` }, { action: 'telemetry.crash_read', actor: 'staff:diag-mqtt' }]);
  });

  it('R-TEL-3: an empty crash report or another device\'s token is refused on devices/{id}/control and nothing is stored', async () => {
    const d = await newDevice();
    const other = await newDevice();
    const seen = control.length;
    await device.publishAsync(`devices/${d.deviceRef}/crash`, JSON.stringify({ token: d.token, body: '' }), { qos: 1 });
    await device.publishAsync(`devices/${d.deviceRef}/crash`, JSON.stringify({ token: other.token, body: 'watchdog reset' }), { qos: 1 });
    const replies = await until(() => {
      const mine = control.slice(seen).filter((c) => c.topic === `devices/${d.deviceRef}/control`).map((c) => c.body);
      return mine.length >= 2 ? mine : undefined;
    });
    expect(replies.map((r) => [r.type, r.topic, r.code]).sort()).toEqual([
      ['refused', 'crash', 'DEVICE_TOKEN_INVALID'],
      ['refused', 'crash', 'VALIDATION_FAILED'],
    ]);
    expect(await reportsOf(d.subjectId)).toEqual([]);
    expect(await reportsOf(other.subjectId)).toEqual([]);
  });
});
