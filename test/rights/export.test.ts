import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { ROOT } from '../support/cli.js';
import { collectAll } from '../../src/modules/rights/rights.collector.js';
import { makePerson, userCtx } from './person.js';

const addFormats = addFormatsImport.default;
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/export.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const fresh = () => ({ stepUpAt: new Date().toISOString() });

async function readStream(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe.each(ENGINES)('access and export on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-DSR-1: the access view holds the account, orders with card tokens only, requests, legal holds and the telemetry description', async () => {
    const person = await makePerson(stack, 2);
    await stack.services.devices.activate(userCtx(person.id), { event: 'activation', deviceId: 'AP-DEV-0001', imei: '490154203237518', model: 'Air Purifier 4', firmware: '1.2.3', location: { lat: 52.520008, lon: 13.404954 } });
    await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'access', params: {}, verification: {} });
    const data = await collectAll(stack.services.rights.deps, person.id);
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true);
    expect((data.account as { email: string }).email).toBe(person.email);
    const orders = data.orders as { id: string; card: { last4: string; token: string } }[];
    expect(orders.map((o) => o.id).sort()).toEqual([...person.orderIds].sort());
    expect(orders[0]!.card.last4).toBe('1111');
    expect(JSON.stringify(data)).not.toContain('4111111111111111');
    expect((data.legalHolds as { record: string; until: string }[]).map((h) => h.record).sort()).toEqual(person.orderIds.map((id) => `order:${id}`).sort());
    expect((data.requests as { type: string }[]).map((r) => r.type)).toEqual(['access']);
    expect(data.telemetry).toMatchObject({ included: false });
    // The device with its current location at the precision it was stored with (city level by default), never finer.
    const [device] = data.devices as { deviceId: string; location: { lat: number; lon: number; precision: string } }[];
    expect(device!.deviceId).toBe('AP-DEV-0001');
    expect(device!.location.precision).toBe('city');
    expect(device!.location.lat).not.toBe(52.520008);
    expect(data.notIncluded).toEqual([]);
  });

  it('R-DSR-6: the export is JSON valid against docs/export.schema.json plus an HTML rendering of the same, downloadable until the link expires, then deleted by the retention run', async () => {
    const person = await makePerson(stack, 3);
    const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'export', params: {}, verification: fresh() });
    expect(r.status).toBe('completed');
    expect(Date.parse(r.exportExpiresAt!) - Date.parse(r.completedAt!)).toBeGreaterThan(stack.services.policy.requests.exportLinkMs - 60_000);
    const json = JSON.parse(await readStream(await stack.services.rights.exports.open(userCtx(person.id), person.id, r.id, 'json'))) as Record<string, unknown>;
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect((json.orders as unknown[]).length).toBe(3);
    const html = await readStream(await stack.services.rights.exports.open(userCtx(person.id), person.id, r.id, 'html'));
    expect(html).toContain('<h2>Your orders</h2>');
    for (const id of person.orderIds) expect(html).toContain(id);
    expect(html).toContain(person.email.replace('@', '@'));
    // Another person cannot download it.
    const other = await makePerson(stack, 0);
    await expect(stack.services.rights.exports.open(userCtx(other.id), other.id, r.id, 'json')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // After the link's validity the sweep deletes both files and the link answers EXPORT_EXPIRED.
    const files = fs.readdirSync(path.join(stack.config.dataDir, 'exports')).filter((f) => f.startsWith(r.id));
    expect(files).toHaveLength(2);
    const later = new Date(Date.now() + stack.services.policy.requests.exportLinkMs + 1000);
    const report = await stack.services.retention.run({ now: later });
    expect(report.steps.find((st) => st.name === 'rights.exports')).toMatchObject({ ok: true, removed: expect.any(Number) });
    expect(report.steps.find((st) => st.name === 'rights.exports')!.removed).toBeGreaterThanOrEqual(1);
    expect(fs.readdirSync(path.join(stack.config.dataDir, 'exports')).filter((f) => f.startsWith(r.id))).toHaveLength(0);
    await expect(stack.services.rights.exports.open(userCtx(person.id), person.id, r.id, 'json')).rejects.toMatchObject({ code: 'EXPORT_EXPIRED' });
  });

  it('R-DSR-4: a third export within the period is declined REPETITIVE and tells the person why and where to complain', async () => {
    const person = await makePerson(stack, 0);
    const max = stack.services.policy.requests.limits.get('export')!.max;
    for (let i = 0; i < max; i++) await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'export', params: {}, verification: fresh() });
    const over = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'export', params: {}, verification: fresh() });
    expect(over.declineReason).toBe('REPETITIVE');
    expect(over.exportFile).toBeNull();
  });
});
