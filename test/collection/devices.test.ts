import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { appError } from '../vault/support.js';
import { coarsen, distanceKm } from '../../src/modules/devices/location.js';
import { DevicesService } from '../../src/modules/devices/devices.service.js';
import { migrateToLatest } from '../../src/internal/db/migrate.js';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { countRows, expectProblem, leaks, signUpUser, userCtx, type User } from './support.js';

// Distinctive values for the scans: a valid IMEI and a hardware id nobody else uses.
const IMEI = '356938035643809';
const HW = 'SMI-PURIFIER-7Q4ZK9';
const here = { lat: 52.520008, lon: 13.404954 };
const later = { lat: 48.137154, lon: 11.576124 };

describe.each(ENGINES)('devices on %s', (kind) => {
  let stack: TestStack;
  let ana: User;
  let bo: User;
  const activate = (u: User, payload: Record<string, unknown>) => stack.app.inject({ method: 'POST', url: '/v1/me/devices', headers: u.auth, payload });
  const body = (event: string, location = here) => ({ event, deviceId: HW, imei: IMEI, model: 'Smartmi P2', firmware: '1.0.3', location });
  /** The location as it sits in the store, opened through the vault (not through the API under test). */
  const storedLocation = async (id: string) => {
    const row = await stack.services.engine.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const { vault, engine } = stack.services;
    const open = async (f: 'location' | 'precise_location') => (row[f] ? JSON.parse(await vault.decrypt(engine.db, row.subject_id, 'devices', f, Buffer.from(row[f]!), 'subject_rights')) : null);
    return { location: await open('location'), precise: await open('precise_location') };
  };

  beforeAll(async () => {
    stack = await createStack(kind);
    ana = await signUpUser(stack);
    bo = await signUpUser(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  let deviceRowId = '';

  it('R-ACC-4: activation records id, IMEI, model, firmware and a city-level location, and returns a device token once', async () => {
    const res = await activate(ana, body('activation'));
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    deviceRowId = d.id;
    expect(d).toMatchObject({ deviceId: HW, imei: IMEI, model: 'Smartmi P2', firmware: '1.0.3', locationPrecision: null, effectivePrecision: 'city', lastEvent: 'activation' });
    expect(d.deviceToken).toMatch(/^pdt_/);
    expect(d.location).toEqual({ ...coarsen(here, 'city'), precision: 'city' });
    expect(distanceKm(here, d.location)).toBeGreaterThan(0.05);
    expect((await storedLocation(d.id)).location).toEqual({ ...coarsen(here, 'city'), precision: 'city' });
  });

  it('R-ACC-4, R-DSR-2: a token revoked by a factory reset or by erasing the device is refused at once, even just after use', async () => {
    const sendWith = (token: string) => stack.app.inject({ method: 'POST', url: '/v1/telemetry/events', headers: { authorization: `Device ${token}` }, payload: [{ event: 'app_open', fields: { screen: 'home' } }] });
    const own = { ...body('activation'), deviceId: 'SMI-FAN-REVOKE-1' };
    const first = (await activate(bo, own)).json();
    // Used once, so the server holds the token in its cache; the owner has not opted in, so the event is refused for consent.
    const known = (await sendWith(first.deviceToken)).statusCode;
    expect(known).toBe(403);
    const reset = (await activate(bo, { ...own, event: 'factory_reset' })).json();
    expect(reset.deviceToken).toMatch(/^pdt_/);
    expect((await sendWith(first.deviceToken)).json().code).toBe('DEVICE_TOKEN_INVALID');
    expect((await sendWith(reset.deviceToken)).statusCode).toBe(known);
    await stack.services.devices.remove(userCtx(bo.id), bo.id, first.id);
    expect((await sendWith(reset.deviceToken)).json().code).toBe('DEVICE_TOKEN_INVALID');
  });

  it('R-ACC-4: firmware update and factory reset update the same row; only the latest location is kept', async () => {
    const fw = await activate(ana, { ...body('firmware_update', later), firmware: '1.1.0' });
    expect(fw.json()).toMatchObject({ id: deviceRowId, firmware: '1.1.0', lastEvent: 'firmware_update' });
    expect(fw.json().deviceToken).toBeUndefined();
    const reset = await activate(ana, body('factory_reset', later));
    expect(reset.json()).toMatchObject({ id: deviceRowId, lastEvent: 'factory_reset' });
    expect(reset.json().deviceToken).toMatch(/^pdt_/);
    expect(await countRows(stack, 'devices')).toBe(1);
    const list = (await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: ana.auth })).json().devices;
    expect(list).toHaveLength(1);
    expect(list[0].location).toEqual({ ...coarsen(later, 'city'), precision: 'city' });
  });

  it('R-USE-7: no location trail anywhere: no history table, no route, nothing in the audit log', async () => {
    const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths).filter((p) => /devices/.test(p) && /(history|trail|locations)/.test(p))).toEqual([]);
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['details']).where('action', 'like', 'devices.%').execute();
    for (const a of audit) expect(a.details).not.toMatch(/lat|lon|52\.5|13\.4|48\.1|11\.5/);
    expect(leaks(stack, [IMEI, HW, String(here.lat), String(coarsen(here, 'city').lat)])).toEqual([]);
  });

  it('R-CHO-3: a device set to region, then off, has its stored location coarsened, then removed, at once', async () => {
    const region = await stack.app.inject({ method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: ana.auth, payload: { locationPrecision: 'region' } });
    expect(region.statusCode, region.body).toBe(200);
    const expected = { ...coarsen(coarsen(later, 'city'), 'region'), precision: 'region' };
    expect((await storedLocation(deviceRowId)).location).toEqual(expected);
    // A new report is stored at the device's setting too.
    await activate(ana, body('firmware_update', here));
    expect((await storedLocation(deviceRowId)).location).toEqual({ ...coarsen(here, 'region'), precision: 'region' });
    const off = await stack.app.inject({ method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: ana.auth, payload: { locationPrecision: 'off' } });
    expect(off.json().location).toBeNull();
    const row = await stack.services.engine.db.selectFrom('devices').select(['location', 'precise_location']).where('id', '=', deviceRowId).executeTakeFirstOrThrow();
    expect(row).toEqual({ location: null, precise_location: null });
    await activate(ana, body('firmware_update', here));
    expect(await storedLocation(deviceRowId)).toEqual({ location: null, precise: null });
  });

  it('R-CHO-3: precise needs the precise_location consent; the account setting coarsens devices that follow it', async () => {
    const { engine, consent } = stack.services;
    const res = await stack.app.inject({ method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: ana.auth, payload: { locationPrecision: 'precise' } });
    expect(res.statusCode).toBe(200);
    await activate(ana, body('firmware_update', here));
    // No consent recorded: kept at city level.
    expect((await storedLocation(deviceRowId)).location).toEqual({ ...coarsen(here, 'city'), precision: 'city' });
    await consent.consents.set(engine.db, userCtx(ana.id), { subjectId: ana.id, purpose: 'precise_location', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    await activate(ana, body('firmware_update', here));
    expect(await storedLocation(deviceRowId)).toEqual({ location: null, precise: { ...coarsen(here, 'precise'), precision: 'precise' } });
    // Consent withdrawn: the sweep coarsens the precise point to city.
    await consent.consents.set(engine.db, userCtx(ana.id), { subjectId: ana.id, purpose: 'precise_location', granted: false, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(await stack.services.devices.enforcePreciseConsent(userCtx('sweeper'))).toEqual({ coarsened: 1 });
    expect(await storedLocation(deviceRowId)).toEqual({ location: { ...coarsen(here, 'city'), precision: 'city' }, precise: null });
    await consent.consents.set(engine.db, userCtx(ana.id), { subjectId: ana.id, purpose: 'precise_location', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    await activate(ana, body('firmware_update', here));
    expect((await storedLocation(deviceRowId)).precise).not.toBeNull();
    // Back to following the account; the account goes to region: the stored point is coarsened in the same request.
    await stack.app.inject({ method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: ana.auth, payload: { locationPrecision: null } });
    const me = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: ana.auth, payload: { locationPrecision: 'region' } });
    expect(me.statusCode, me.body).toBe(200);
    expect(await storedLocation(deviceRowId)).toEqual({ location: { ...coarsen(here, 'region'), precision: 'region' }, precise: null });
  });

  it('R-CHO-3, R-ACC-4: the account set to off removes the stored location of every device that follows it, at once; a device with its own setting keeps its own', async () => {
    const { engine, consent } = stack.services;
    const u = await signUpUser(stack);
    const other = await signUpUser(stack);
    const activateAs = async (who: User, deviceId: string) => (await activate(who, { ...body('activation'), deviceId })).json().id as string;
    const city = await activateAs(u, 'SMI-OFF-CITY');
    // A precise point (consent given, account at precise) is stored in its own column: it must go too.
    await consent.consents.set(engine.db, userCtx(u.id), { subjectId: u.id, purpose: 'precise_location', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect((await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: u.auth, payload: { locationPrecision: 'precise' } })).statusCode).toBe(200);
    const precise = await activateAs(u, 'SMI-OFF-PRECISE');
    const ownSetting = await activateAs(u, 'SMI-OFF-OWN');
    expect((await stack.app.inject({ method: 'PATCH', url: `/v1/me/devices/${ownSetting}`, headers: u.auth, payload: { locationPrecision: 'region' } })).statusCode).toBe(200);
    const othersDevice = await activateAs(other, 'SMI-OFF-OTHER');
    expect(await storedLocation(city)).toEqual({ location: { ...coarsen(here, 'city'), precision: 'city' }, precise: null });
    expect(await storedLocation(precise)).toEqual({ location: null, precise: { ...coarsen(here, 'precise'), precision: 'precise' } });

    const off = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: u.auth, payload: { locationPrecision: 'off' } });
    expect(off.statusCode, off.body).toBe(200);
    // Straight after the account change, read from the store (not through GET /v1/me/devices, which re-applies it too).
    const columns = await engine.db.selectFrom('devices').select(['id', 'location', 'precise_location']).where('id', 'in', [city, precise]).execute();
    expect(columns.map((c) => [c.location, c.precise_location])).toEqual([[null, null], [null, null]]);
    expect(await storedLocation(ownSetting)).toEqual({ location: { ...coarsen(here, 'region'), precision: 'region' }, precise: null });
    expect((await storedLocation(othersDevice)).location).toEqual({ ...coarsen(here, 'city'), precision: 'city' });
    const listed = (await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: u.auth })).json().devices as { id: string; effectivePrecision: string; location: unknown }[];
    expect(Object.fromEntries(listed.map((d) => [d.id, [d.effectivePrecision, d.location === null]]))).toEqual({ [city]: ['off', true], [precise]: ['off', true], [ownSetting]: ['region', false] });
    // A later report from a following device stores no location either.
    await activate(u, { ...body('firmware_update'), deviceId: 'SMI-OFF-CITY' });
    expect(await storedLocation(city)).toEqual({ location: null, precise: null });
  });

  it('R-USE-7: device identifiers open for warranty and software licences only; other purposes are refused', async () => {
    const { devices } = stack.services;
    const svc = userCtx('warranty-desk');
    expect(await devices.readIdentifiers(svc, deviceRowId, 'warranty')).toEqual({ deviceId: HW, imei: IMEI });
    expect(await devices.readIdentifiers(svc, deviceRowId, 'software_licence')).toEqual({ deviceId: HW, imei: IMEI });
    for (const purpose of ['provide_service', 'personalised_ads', 'precise_location', 'marketing_messages', 'surveys', 'product_analysis', 'no_such_purpose']) {
      const e = await appError(devices.readIdentifiers(svc, deviceRowId, purpose));
      expect(e.code, purpose).toBe('PURPOSE_DENIED');
    }
  });

  it('R-ACC-4: bad IMEI, bad coordinates, unknown fields and wrong types are refused and nothing is written', async () => {
    const before = await countRows(stack, 'devices');
    const fresh = { ...body('activation'), deviceId: 'SMI-OTHER-1' };
    const post = (payload: Record<string, unknown>) => ({ method: 'POST' as const, url: '/v1/me/devices', headers: bo.auth, payload });
    await expectProblem(stack, post({ ...fresh, imei: '356938035643808' }), 400, 'IMEI_INVALID');
    await expectProblem(stack, post({ ...fresh, imei: '35693803564380' }), 400, 'IMEI_INVALID');
    await expectProblem(stack, post({ ...fresh, location: { lat: 91, lon: 0 } }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...fresh, location: { lat: 10, lon: -181 } }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...fresh, location: { lat: '52.5', lon: 13 } }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...fresh, location: { lat: 52, lon: 13, altitude: 30 } }), 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, post({ ...fresh, event: 'reboot' }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...fresh, model: 'x'.repeat(65) }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...fresh, owner: 'me' }), 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, { method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: ana.auth, payload: { locationPrecision: 'street' } }, 400, 'VALIDATION_FAILED');
    expect(await countRows(stack, 'devices')).toBe(before);
  });

  it('R-ACC-4: activations of one new device arriving together still make one row', async () => {
    const carl = await signUpUser(stack);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => activate(carl, { ...body('activation'), deviceId: 'SMI-RACE-1', firmware: `1.0.${i}` })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: carl.auth })).json().devices).toHaveLength(1);
  });

  it("R-ACC-4: another user's token can neither see nor change your devices", async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: bo.auth })).json().devices).toEqual([]);
    await expectProblem(stack, { method: 'PATCH', url: `/v1/me/devices/${deviceRowId}`, headers: bo.auth, payload: { locationPrecision: 'off' } }, 404, 'NOT_FOUND');
    await expectProblem(stack, { method: 'GET', url: '/v1/me/devices' }, 401, 'UNAUTHENTICATED');
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: ana.auth })).json().devices[0].effectivePrecision).toBe('region');
  });

  it('R-ACC-4: a device is found again by a keyed index of its id, not by decrypting ids; rows from before the index stay findable', async () => {
    const dora = await signUpUser(stack);
    const { engine, vault } = stack.services;
    const one = (await activate(dora, { ...body('activation'), deviceId: 'SMI-INDEX-1' })).json();
    const two = (await activate(dora, { ...body('activation'), deviceId: 'SMI-INDEX-2' })).json();
    const indexOf = async (id: string) => (await engine.db.selectFrom('devices').select('device_id_index').where('id', '=', id).executeTakeFirstOrThrow()).device_id_index;
    expect(await indexOf(one.id)).toBe(vault.blindIndex('device_id', 'SMI-INDEX-1'));
    expect(await indexOf(two.id)).toMatch(/^[0-9a-f]{64}$/);
    const deviceIdReads = vi.spyOn(vault, 'decrypt');
    try {
      const again = await activate(dora, { ...body('firmware_update'), deviceId: 'SMI-INDEX-2', firmware: '2.0.0' });
      expect(again.json()).toMatchObject({ id: two.id, firmware: '2.0.0' });
      expect(deviceIdReads.mock.calls.filter((c) => c[3] === 'device_id')).toEqual([]);
      // Rows written before the index existed (null index): found by opening them once, then indexed.
      await engine.db.updateTable('devices').set({ device_id_index: null }).where('subject_id', '=', dora.id).execute();
      const legacy = await activate(dora, { ...body('firmware_update'), deviceId: 'SMI-INDEX-1', firmware: '2.0.1' });
      expect(legacy.json()).toMatchObject({ id: one.id, firmware: '2.0.1' });
      expect((await stack.app.inject({ method: 'GET', url: '/v1/me/devices', headers: dora.auth })).json().devices).toHaveLength(2);
      expect([await indexOf(one.id), await indexOf(two.id)]).toEqual([vault.blindIndex('device_id', 'SMI-INDEX-1'), vault.blindIndex('device_id', 'SMI-INDEX-2')]);
      deviceIdReads.mockClear();
      expect((await activate(dora, { ...body('firmware_update'), deviceId: 'SMI-INDEX-2' })).json().id).toBe(two.id);
      expect(deviceIdReads.mock.calls.filter((c) => c[3] === 'device_id')).toEqual([]);
    } finally {
      deviceIdReads.mockRestore();
    }
  });
  it('R-DSR-2, R-ACC-4: two processes activating one new device at once store one row with one live token (the store\'s unique index, not a lock in one process)', async () => {
    const { engine, vault, audit, consent, accounts } = stack.services;
    // A second service on the same store stands for a second process (the MQTT bridge, another instance): it has
    // its own in-process lock, so only the store can keep the two first activations apart.
    const other = new DevicesService({ db: engine.db, vault, audit, gate: consent.decisions, accounts: { locationPrecision: (id) => accounts.accounts.locationPrecision(engine.db, id) } });
    const u = await signUpUser(stack);
    const input = { ...body('activation'), event: 'activation' as const, deviceId: 'SMI-RACE-DEVICE-1' };
    const [a, b] = await Promise.all([stack.services.devices.activate(userCtx(u.id), input), other.activate(userCtx(u.id), input)]);
    expect(a.id).toBe(b.id);
    expect([a.deviceToken, b.deviceToken].filter((t) => t !== undefined)).toHaveLength(1);
    const rows = await engine.db.selectFrom('devices').select('id').where('subject_id', '=', u.id).execute();
    expect(rows).toHaveLength(1);
    const live = await engine.db.selectFrom('device_tokens').select('device_ref').where('device_ref', '=', rows[0]!.id).where('revoked_at', 'is', null).execute();
    expect(live).toHaveLength(1);
  });
  it('R-DSR-2: the migration to one row per device keeps the first activation of duplicates stored before it and revokes the other rows\' tokens', async () => {
    const { engine } = stack.services;
    const u = await signUpUser(stack);
    const first = await stack.services.devices.activate(userCtx(u.id), { ...body('activation'), event: 'activation' as const, deviceId: 'SMI-DUP-DEVICE-1' });
    // The store as two processes could leave it before the migration: the plain index, a second row of the same
    // device activated a moment later, with a live token of its own.
    await sql`drop index devices_id_unique`.execute(engine.db);
    await sql`create index devices_id_index on devices (subject_id, device_id_index)`.execute(engine.db);
    const row = await engine.db.selectFrom('devices').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    const dup = randomUUID();
    await engine.db.insertInto('devices').values({ ...row, id: dup, activated_at: new Date(Date.parse(row.activated_at) + 1000).toISOString() }).execute();
    const token = await engine.db.selectFrom('device_tokens').selectAll().where('device_ref', '=', first.id).executeTakeFirstOrThrow();
    await engine.db.insertInto('device_tokens').values({ ...token, token_hash: `dup-${randomUUID()}`, device_ref: dup }).execute();
    await sql`delete from pledge_migrations where name = '0604_devices_id_unique'`.execute(engine.db);
    await migrateToLatest(engine);
    expect((await engine.db.selectFrom('devices').select('id').where('subject_id', '=', u.id).execute()).map((r) => r.id)).toEqual([first.id]);
    const tokens = await engine.db.selectFrom('device_tokens').select(['device_ref', 'revoked_at']).where('subject_id', '=', u.id).execute();
    expect(tokens.find((t) => t.device_ref === dup)?.revoked_at).toEqual(expect.any(String));
    expect(tokens.find((t) => t.device_ref === first.id)?.revoked_at).toBeNull();
  });
});
