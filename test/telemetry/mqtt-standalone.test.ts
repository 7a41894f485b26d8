import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { ROOT } from '../support/cli.js';
import { issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { bridgeStoreId } from '../../src/modules/telemetry/telemetry.jobs.js';
import { systemContext } from '../../src/internal/context.js';
import { MQTT_URL, consentKit, until, vaultSubject, usageEvents } from './support.js';


/** `pledge mqtt-bridge` in a child process of its own, on the test stack's store; resolves once it is subscribed. */
async function startBridge(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/pledge.js'), 'mqtt-bridge', '--connections', '1'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, LOG_LEVEL: 'warn', MQTT_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await until(() => (out.includes('mqtt bridge running') ? true : undefined), 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`pledge mqtt-bridge did not start: ${out}`, { cause: e });
  }
  return { child, output: () => out, exited };
}

describe.each(ENGINES)('`pledge mqtt-bridge` on its own through Mosquitto on %s', (kind) => {
  let stack: TestStack;
  let clientId: string;
  beforeAll(async () => {
    stack = await createStack(kind);
    // The id the standalone bridge's only connection uses (stable per store: `pledge-bridge-<store>-0`).
    clientId = `pledge-bridge-${bridgeStoreId(stack.config)}-0`;
  });
  afterAll(async () => {
    // Drop the bridge's persistent broker session of this throw-away store.
    await (await mqtt.connectAsync(MQTT_URL, { clientId, clean: true, protocolVersion: 5, reconnectPeriod: 0 })).endAsync();
    await stack.close();
  });

  it('R-TEL-2: the standalone bridge stores a published event under the pseudonym, acknowledges it (no redelivery to its session) and reports it on stop', async () => {
    const kit = await consentKit(stack);
    const subjectId = await vaultSubject(stack);
    const deviceRef = `solo-${randomBytes(5).toString('hex')}`;
    const model = `solo-model-${randomBytes(5).toString('hex')}`;
    const token = await issueDeviceToken(stack.services.engine.db, systemContext('test'), stack.services.vault, { subjectId, deviceRef, model, firmware: '3.0', region: 'DE' });
    await kit.optIn(subjectId);
    const stored = async () => stack.services.engine.db.selectFrom('telemetry_events').selectAll().where('model', '=', model).execute();

    const bridge = await startBridge(stack.env);
    const device = await mqtt.connectAsync(MQTT_URL, { clientId: `solo-dev-${deviceRef}`, clean: true });
    try {
      await device.publishAsync(`devices/${deviceRef}/events`, JSON.stringify({ token, events: usageEvents(3) }), { qos: 1 });
      const rows = await until(async () => {
        const r = await stored();
        return r.length === 3 ? r : undefined;
      }, 20_000);
      expect(rows.map((r) => r.event).sort()).toEqual(['app_open', 'feature_used', 'feature_used']);
      expect(JSON.stringify(rows)).not.toContain(subjectId);
      expect(JSON.stringify(rows)).not.toContain(deviceRef);
    } finally {
      await device.endAsync();
    }

    bridge.child.kill('SIGTERM');
    expect(await bridge.exited).toBe(0);
    expect(bridge.output()).toMatch(/mqtt bridge stopped after 1 messages/);

    // Resume the bridge's broker session as the bridge itself would after a restart: a message it had not
    // acknowledged would be redelivered right after CONNACK. Nothing comes, and nothing more is stored.
    const resumed = await mqtt.connectAsync(MQTT_URL, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 86_400 }, reconnectPeriod: 0 });
    const redelivered: string[] = [];
    // Other stores' devices may publish on devices/+/events meanwhile (the session is subscribed): only ours count.
    resumed.on('message', (topic) => topic.startsWith(`devices/${deviceRef}/`) && redelivered.push(topic));
    try {
      expect(resumed.connected).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await resumed.endAsync();
    }
    expect(redelivered).toEqual([]);
    expect(await stored()).toHaveLength(3);
  });
});
