import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { createBridge } from '../../src/modules/telemetry/telemetry.jobs.js';
import type { MqttBridge } from '../../src/modules/telemetry/mqtt-bridge.js';
import { MQTT_URL, signedInUser, until } from './support.js';

const IMEI = '356938035643809';
const BAD_IMEI = '356938035643808';

describe.each(ENGINES)('device activation over MQTT through Mosquitto on %s', (kind) => {
  let stack: TestStack;
  let bridge: MqttBridge;
  let device: MqttClient;
  const control: { topic: string; body: Record<string, unknown> }[] = [];
  const run = randomBytes(4).toString('hex');
  let auth: { authorization: string };

  beforeAll(async () => {
    stack = await createStack(kind);
    // The bridge as `pledge serve` builds it: activation messages go to the devices module wired in services.
    bridge = createBridge(stack.services, MQTT_URL, { connections: 1, clientPrefix: `act-${run}`, group: `act${run}` });
    await bridge.start();
    device = await mqtt.connectAsync(MQTT_URL, { clientId: `act-dev-${run}`, clean: true });
    device.on('message', (topic, payload) => control.push({ topic, body: JSON.parse(payload.toString()) }));
    auth = { authorization: `Bearer ${(await signedInUser(stack, `act-${run}@example.com`)).token}` };
  });
  afterAll(async () => {
    await device?.endAsync();
    await bridge?.stop({ forgetSessions: true });
    await stack?.close();
  });

  /** A device of the signed-in owner activated through the app, listening on its control topic. */
  async function ownerWithDevice() {
    const hardwareId = `SMI-${randomBytes(5).toString('hex').toUpperCase()}`;
    const res = await stack.app.inject({ method: 'POST', url: '/v1/me/devices', headers: auth, payload: { event: 'activation', deviceId: hardwareId, imei: IMEI, model: 'Smartmi P2', firmware: '1.0.0' } });
    expect(res.statusCode, res.body).toBe(200);
    const { id, deviceToken } = res.json() as { id: string; deviceToken: string };
    await device.subscribeAsync(`devices/${id}/control`, { qos: 1 });
    const listed = async () => (await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: auth })).json().devices as Record<string, unknown>[];
    const replies = (after: number) => control.slice(after).filter((c) => c.topic === `devices/${id}/control`).map((c) => c.body);
    return { id, token: deviceToken, hardwareId, listed, replies };
  }

  it('R-ACC-4, R-USE-7: an activation message is recorded by the devices module for the owner of the device token', async () => {
    const d = await ownerWithDevice();
    const seen = control.length;
    const message = { token: d.token, event: 'firmware_update', deviceId: d.hardwareId, imei: IMEI, model: 'Smartmi P2', firmware: '2.1.0', location: { lat: 52.520008, lon: 13.404954 } };
    await device.publishAsync(`devices/${d.id}/activation`, JSON.stringify(message), { qos: 1 });
    const listed = await until(async () => (await d.listed()).find((x) => x.id === d.id && x.firmware === '2.1.0'));
    expect(listed).toMatchObject({ deviceId: d.hardwareId, imei: IMEI, lastEvent: 'firmware_update' });
    // Coarsened before storage exactly as over HTTP: never the point the device sent.
    expect(listed.location).not.toEqual(expect.objectContaining({ lat: 52.520008, lon: 13.404954 }));
    expect(await until(() => d.replies(seen)[0])).toMatchObject({ type: 'activated', event: 'firmware_update' });
  });

  it('R-ACC-4: a factory reset over MQTT revokes the old device token and sends the new one on the control topic', async () => {
    const d = await ownerWithDevice();
    const seen = control.length;
    await device.publishAsync(`devices/${d.id}/activation`, JSON.stringify({ token: d.token, event: 'factory_reset', deviceId: d.hardwareId, imei: IMEI, model: 'Smartmi P2', firmware: '1.0.0' }), { qos: 1 });
    const reply = await until(() => d.replies(seen)[0]);
    expect(reply).toMatchObject({ type: 'activated', event: 'factory_reset', deviceToken: expect.stringMatching(/^pdt_/) });
    expect(reply.deviceToken).not.toBe(d.token);
    await device.publishAsync(`devices/${d.id}/activation`, JSON.stringify({ token: d.token, event: 'activation', deviceId: d.hardwareId, imei: IMEI, model: 'Smartmi P2', firmware: '1.0.0' }), { qos: 1 });
    expect(await until(() => d.replies(seen)[1])).toMatchObject({ type: 'refused', code: 'DEVICE_TOKEN_INVALID' });
  });

  it('R-ACC-4: a bad IMEI, a malformed message and another device are refused on devices/{id}/control and change nothing', async () => {
    const d = await ownerWithDevice();
    const seen = control.length;
    const send = (body: Record<string, unknown>) => device.publishAsync(`devices/${d.id}/activation`, JSON.stringify({ token: d.token, event: 'activation', deviceId: d.hardwareId, model: 'Smartmi P2', firmware: '9.9.9', ...body }), { qos: 1 });
    await send({ imei: BAD_IMEI });
    await send({ imei: IMEI, shoeSize: 44 });
    await send({ imei: IMEI, deviceId: 'SMI-SOMEONE-ELSE' });
    const replies = await until(() => (d.replies(seen).length >= 3 ? d.replies(seen) : undefined));
    // Messages of one device are handled concurrently, so refusals may come back in any order.
    expect(replies.map((r) => [r.type, r.code]).sort()).toEqual([
      ['refused', 'DEVICE_TOKEN_INVALID'],
      ['refused', 'IMEI_INVALID'],
      ['refused', 'VALIDATION_FAILED'],
    ]);
    expect(JSON.stringify(replies)).not.toContain(BAD_IMEI);
    expect((await d.listed()).filter((x) => x.id === d.id).map((x) => [x.deviceId, x.firmware, x.imei])).toEqual([[d.hardwareId, '1.0.0', IMEI]]);
    expect((await d.listed()).map((x) => x.deviceId)).not.toContain('SMI-SOMEONE-ELSE');
  });
});
