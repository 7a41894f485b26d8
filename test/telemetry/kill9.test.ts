import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { ROOT } from '../support/cli.js';
import { issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { systemContext } from '../../src/internal/context.js';
import { bridgeStoreId } from '../../src/modules/telemetry/telemetry.jobs.js';
import { MQTT_URL, consentKit, vaultSubject, usageEvents } from './support.js';


const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function startServer(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/pledge.js'), 'serve'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port), LOG_LEVEL: 'warn', MQTT_URL }, stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

describe.each(ENGINES)('kill -9 during ingestion on %s', (kind) => {
  let stack: TestStack;
  let token: string;
  let deviceRef: string;
  let model: string;
  beforeAll(async () => {
    stack = await createStack(kind);
    const kit = await consentKit(stack);
    const subjectId = await vaultSubject(stack);
    deviceRef = `k9-${kind}-${Date.now().toString(36)}`;
    model = `k9model-${Date.now().toString(36)}`;
    token = await issueDeviceToken(stack.services.engine.db, systemContext('test'), stack.services.vault, { subjectId, deviceRef, model, firmware: '1', region: 'CN' });
    await kit.optIn(subjectId);
  });
  afterAll(async () => {
    // Drop the bridge's persistent broker sessions of this throw-away store.
    const prefix = `pledge-bridge-${bridgeStoreId(stack.config)}`;
    for (let i = 0; i < 32; i++) await (await mqtt.connectAsync(MQTT_URL, { clientId: `${prefix}-${i}`, clean: true, protocolVersion: 5, reconnectPeriod: 0 })).endAsync();
    await stack.close();
  });

  const stored = async () => Number((await stack.services.engine.db.selectFrom('telemetry_events').select((e) => e.fn.countAll().as('n')).where('model', '=', model).executeTakeFirstOrThrow()).n);

  it('R-TEL-2: every HTTP batch acknowledged before a kill -9 is in the database; MQTT messages not acknowledged are redelivered after restart', async () => {
    const port = await freePort();
    let server = await startServer(stack.env, port);
    const base = await stored();
    // HTTP: send batches back to back, kill -9 while requests are in flight.
    let acked = 0;
    const sender = (async () => {
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/telemetry/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Device ${token}` }, body: JSON.stringify(usageEvents(200)) }).catch(() => undefined);
        if (!res) return;
        if (res.status === 200) acked += ((await res.json()) as { accepted: number }).accepted;
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    server.kill('SIGKILL');
    await sender;
    expect(acked).toBeGreaterThan(0);
    expect(await stored()).toBeGreaterThanOrEqual(base + acked);

    // MQTT: QoS 1 messages published while the server dies; after a restart the bridge gets what it had not acknowledged.
    server = await startServer(stack.env, port);
    const before = await stored();
    const device = await mqtt.connectAsync(MQTT_URL, { clientId: `k9dev-${deviceRef}` });
    const total = 300;
    const publishing = Promise.all(Array.from({ length: total }, () => device.publishAsync(`devices/${deviceRef}/events`, JSON.stringify({ token, events: usageEvents(1) }), { qos: 1 })));
    await new Promise((r) => setTimeout(r, 150));
    server.kill('SIGKILL');
    await publishing;
    await device.endAsync();
    server = await startServer(stack.env, port);
    try {
      for (let i = 0; i < 150 && (await stored()) < before + total; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await stored()).toBeGreaterThanOrEqual(before + total);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });
});
