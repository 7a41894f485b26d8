import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { hashToken, issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { telemetryMigrations } from '../../src/modules/telemetry/telemetry.migration.js';
import { leaks, signUpUser } from '../collection/support.js';
import { consentKit, usageEvents, vaultSubject, type ConsentKit } from './support.js';

describe.each(ENGINES)('device tokens keep the device attributes sealed on %s', (kind) => {
  let stack: TestStack;
  let kit: ConsentKit;
  let apiKey: string;
  const ctx = systemContext('test');
  const day = new Date().toISOString().slice(0, 10);
  // Distinctive strings for the scans: nobody else's model or firmware looks like these.
  const distinct = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    stack = await createStack(kind);
    kit = await consentKit(stack);
    apiKey = (await stack.services.apiKeys.create(stack.services.engine.db, ctx, 'product-team')).secret;
  });
  afterAll(async () => {
    await kit.stop();
    await stack.close();
  });

  const send = (token: string, n = 3) => stack.app.inject({ method: 'POST', url: '/v1/telemetry/events', headers: { authorization: `Device ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(usageEvents(n)) });
  const tokenRow = (token: string) => stack.services.engine.db.selectFrom('device_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
  const device = async (model: string, firmware = '2.4.1') => {
    const subjectId = await vaultSubject(stack);
    const deviceRef = `dev-${randomBytes(4).toString('hex')}`;
    const token = await issueDeviceToken(stack.services.engine.db, ctx, stack.services.vault, { subjectId, deviceRef, model, firmware, region: 'CN' });
    return { subjectId, deviceRef, token };
  };

  it('R-CLS-2, R-SEC-4: a device activated over HTTP has its model and firmware nowhere in clear (SQLite file + WAL, or pg_dump; logs)', async () => {
    const ana = await signUpUser(stack);
    const model = distinct('Zq-Purifier');
    const firmware = distinct('fw');
    const res = await stack.app.inject({ method: 'POST', url: '/v1/me/devices', headers: ana.auth, payload: { event: 'activation', deviceId: distinct('HW'), imei: '356938035643809', model, firmware, location: { lat: 52.52, lon: 13.4 } } });
    expect(res.statusCode, res.body).toBe(200);
    const token: string = res.json().deviceToken;
    expect(token).toMatch(/^pdt_/);
    const row = await tokenRow(token);
    expect(row.model).not.toBeNull();
    expect(row.legacy_model).toBeNull();
    // Scanned before any event: telemetry_events carry the model on purpose (pseudonymous, next test).
    expect(leaks(stack, [model, firmware])).toEqual([]);
    // The token still works: its identity is opened from the sealed columns.
    expect(await stack.services.telemetry.deviceTokens.lookup(token)).toMatchObject({ subjectId: ana.id, model, firmware, region: null });
  });

  it('R-CLS-2, R-AGG-1: events of devices with sealed tokens still carry model, firmware and region into the aggregates', async () => {
    const model = distinct('zhimi.fan');
    for (let i = 0; i < 10; i++) {
      const d = await device(model, '3.1.4');
      await kit.optIn(d.subjectId);
      expect((await send(d.token, 2)).json()).toEqual({ accepted: 2 });
      expect(Buffer.from((await tokenRow(d.token)).model!).includes(Buffer.from(model))).toBe(false);
    }
    const get = (qs: string) => stack.app.inject({ method: 'GET', url: `/v1/insights/events?metric=count&from=${day}&to=${day}&${qs}`, headers: { 'x-api-key': apiKey } });
    expect((await get('groupBy=model')).json().groups).toContainEqual({ key: model, value: 20 });
    expect((await get('groupBy=firmware')).json().groups).toContainEqual({ key: '3.1.4', value: 20 });
    expect((await get('groupBy=region')).json().groups).toContainEqual({ key: 'CN', value: expect.any(Number) });
  });

  it('R-SEC-4: the sealed attributes are opened once when the identity is cached, not per request or message', async () => {
    const d = await device(distinct('m'));
    await kit.optIn(d.subjectId);
    const spy = vi.spyOn(stack.services.vault, 'decryptFields');
    try {
      for (let i = 0; i < 5; i++) expect((await send(d.token, 1)).statusCode).toBe(200);
      await stack.services.telemetry.deviceTokens.identify({ deviceRef: d.deviceRef, kind: 'events', payload: { token: d.token } });
      expect(spy.mock.calls.filter((c) => c[2] === 'device_tokens')).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('R-DSR-7: the token of an erased (crypto-shredded) owner is refused with SUBJECT_ERASED over HTTP and MQTT, and nothing is stored', async () => {
    const model = distinct('m');
    const d = await device(model);
    await kit.optIn(d.subjectId);
    await stack.services.vault.shred(stack.services.engine.db, ctx, d.subjectId);
    const res = await send(d.token);
    expect(res.statusCode).toBe(410);
    expect(res.json().code).toBe('SUBJECT_ERASED');
    const crash = await stack.app.inject({ method: 'POST', url: '/v1/telemetry/crash', headers: { authorization: `Device ${d.token}` }, payload: { body: 'boom' } });
    expect(crash.statusCode).toBe(410);
    await expect(stack.services.telemetry.deviceTokens.identify({ deviceRef: d.deviceRef, kind: 'events', payload: { token: d.token } })).rejects.toMatchObject({ code: 'SUBJECT_ERASED' });
    expect(await stack.services.engine.db.selectFrom('telemetry_events').select('model').where('model', '=', model).execute()).toEqual([]);
  });

  // Last: it rebuilds device_tokens in its pre-0602 shape.
  it('R-SEC-4: tokens issued before migration 0602 keep working; their plaintext is sealed on first use, and unused ones by the retention sweep', async () => {
    const db = stack.services.engine.db;
    const schemaDb = db as unknown as Kysely<unknown>;
    await db.schema.dropTable('device_tokens').execute();
    await telemetryMigrations.find((m) => m.name === '0600_telemetry_events')!.up(schemaDb, kind);
    const live = { subjectId: await vaultSubject(stack), token: `pdt_${randomBytes(32).toString('base64url')}`, model: distinct('old-live') };
    const revoked = { subjectId: await vaultSubject(stack), token: `pdt_${randomBytes(32).toString('base64url')}`, model: distinct('old-revoked') };
    const erased = { subjectId: await vaultSubject(stack), token: `pdt_${randomBytes(32).toString('base64url')}`, model: distinct('old-erased') };
    const old = (t: typeof live, revokedAt: string | null) => ({ token_hash: hashToken(t.token), subject_id: t.subjectId, device_ref: `ref-${t.model}`, model: t.model, firmware: '0.9', region: 'DE', created_at: new Date().toISOString(), revoked_at: revokedAt });
    await (schemaDb as Kysely<Record<string, Record<string, unknown>>>).insertInto('device_tokens').values([old(live, null), old(revoked, new Date().toISOString()), old(erased, null)]).execute();
    await telemetryMigrations.find((m) => m.name === '0602_device_tokens_sealed')!.up(schemaDb, kind);
    await stack.services.vault.shred(db, ctx, erased.subjectId);

    await kit.optIn(live.subjectId);
    expect((await send(live.token, 2)).json()).toEqual({ accepted: 2 });
    expect(await db.selectFrom('telemetry_events').select(['model', 'firmware', 'region']).where('model', '=', live.model).execute()).toEqual([
      { model: live.model, firmware: '0.9', region: 'DE' },
      { model: live.model, firmware: '0.9', region: 'DE' },
    ]);
    const sealedLive = await tokenRow(live.token);
    expect(sealedLive).toMatchObject({ legacy_model: null, legacy_firmware: null, legacy_region: null });
    expect(Buffer.from(sealedLive.model!).includes(Buffer.from(live.model))).toBe(false);

    const report = await stack.services.retention.run();
    expect(report.steps.find((s) => s.name === 'telemetry.device_tokens_sealed')).toMatchObject({ ok: true, removed: 2 });
    const rows = await db.selectFrom('device_tokens').selectAll().execute();
    expect(rows.filter((r) => r.legacy_model !== null || r.legacy_firmware !== null || r.legacy_region !== null)).toEqual([]);
    expect((await tokenRow(revoked.token)).model).not.toBeNull();
    // The erased owner's token: its plaintext gone with the key rather than sealed, and the token revoked.
    expect(await tokenRow(erased.token)).toMatchObject({ model: null, legacy_model: null, revoked_at: expect.any(String) });
    expect((await send(erased.token)).json().code).toBe('DEVICE_TOKEN_INVALID');
  });
});
