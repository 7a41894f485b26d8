import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { makePerson, userCtx } from './person.js';
import { checkPolicyText } from '../../src/modules/policy/policy.loader.js';
import { assertEveryPersonalTablePurged } from '../../src/modules/rights/rights.purge.js';
import { openRights } from '../../src/modules/rights/rights.open.js';
import type { RightsDeps } from '../../src/modules/rights/rights.deps.js';
import { mutatedPolicy, seedPolicyText } from '../support/policy-text.js';

/** Every table outside the rights module that keeps rows under the person's subject id. */
const SUBJECT_TABLES = ['access_log', 'accounts', 'crash_reports', 'device_tokens', 'devices', 'email_opens', 'orders', 'outbox', 'pixel_tokens', 'sealed_values', 'sessions', 'telemetry_links'] as const;

describe.each(ENGINES)('erasure purge on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  const rowsOf = async (subjectId: string) => {
    const db = stack.services.engine.db;
    const out: Record<string, number> = {};
    for (const t of SUBJECT_TABLES) out[t] = (await db.selectFrom(t).select('subject_id').where('subject_id', '=', subjectId).execute()).length;
    return out;
  };

  /** A person with rows in the stores of every module: account, orders, device and its token, telemetry, mail. */
  async function busyPerson() {
    const { services } = stack;
    const db = services.engine.db;
    const person = await makePerson(stack, 1);
    const ctx = userCtx(person.id);
    await services.devices.activate(ctx, { event: 'activation', deviceId: `dev-${randomUUID().slice(0, 8)}`, imei: '490154203237518', model: 'Air Purifier 4', firmware: '1.2.3', location: { lat: 52.52, lon: 13.405 } });
    await services.sealed.put(ctx, 'diary', `${Buffer.from(JSON.stringify({ alg: 'ECDH-ES', enc: 'A256GCM' })).toString('base64url')}..aXY.Y2lwaGVy.dGFn`);
    await services.telemetry.pseudonyms.pseudonymFor(db, person.id);
    const messageRef = await services.outbox.enqueue(db, { subjectId: person.id, purpose: 'provide_service', kind: 'purge_test', message: { to: person.email, subject: 'Hello', text: 'Hello' } });
    await services.telemetry.pixels.pixelFor(db, person.id, messageRef);
    // Opens, crash reports and access-log lines arrive through consent-gated device and HTTP paths; their rows are
    // written directly here, with no personal value in them, since only their deletion is under test.
    const now = new Date().toISOString();
    await db.insertInto('email_opens').values({ id: randomUUID(), subject_id: person.id, message_ref: messageRef, opened_at: now }).execute();
    await db.insertInto('crash_reports').values({ id: randomUUID(), subject_id: person.id, received_at: now, model: null, firmware: null, body: 'boot loop', pii_counts: '{}', device_id: null, ip: null, route: null }).execute();
    await db.insertInto('access_log').values({ id: randomUUID(), subject_id: person.id, at: now, ip: '192.0.2.0/24', ip_prefix: '192.0.2.0/24', ip_truncated: 1, browser: null, os: null, language: null, referrer: null, method: 'GET', route: '/v1/me', status: 200, clickstream: 'c' }).execute();
    return person;
  }

  it('R-DSR-7: account erasure removes the person\'s rows from every module\'s store, through each owner, and the audit names the tables', async () => {
    const person = await busyPerson();
    const bystander = await busyPerson();
    const before = await rowsOf(person.id);
    const bystanderBefore = await rowsOf(bystander.id);
    // Sessions are ended by their own step; everything else is left for the purge.
    for (const t of SUBJECT_TABLES.filter((x) => x !== 'sessions')) expect(before[t], t).toBeGreaterThan(0);

    const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: { stepUpAt: new Date().toISOString() } });
    expect(r.status).toBe('completed');

    expect(Object.values(await rowsOf(person.id)).every((n) => n === 0), JSON.stringify(await rowsOf(person.id))).toBe(true);
    // Someone else's rows are untouched.
    expect(await rowsOf(bystander.id)).toEqual(bystanderBefore);

    const purged = await stack.services.engine.db.selectFrom('audit_log').select('details').where('action', '=', 'rights.subject_purged').where('subject_id', '=', person.id).execute();
    expect(purged).toHaveLength(1);
    const details = JSON.parse(String(purged[0]!.details)) as { tables: string[]; rows: number };
    // The person's one order is past its tax-law hold (makePerson), so it is purged, not held.
    expect(details.tables).toEqual(['access_log', 'accounts', 'crash_reports', 'device_tokens', 'devices', 'email_opens', 'orders', 'outbox', 'pixel_tokens', 'sealed_values', 'telemetry_links']);
    expect(details.rows).toBe(SUBJECT_TABLES.reduce((n, t) => n + before[t]!, 0) - before.sessions!);
  });
});

describe('erasure purge coverage', () => {
  it('R-DSR-7: a policy that names a personal table no module purges is refused when the rights module opens, not at a person\'s erasure', async () => {
    const seed = checkPolicyText(seedPolicyText());
    const extended = checkPolicyText(mutatedPolicy((d) => {
      d.fields['loyalty_cards.number'] = 'user.name';
    }));
    if (!seed.ok || !extended.ok) throw new Error('the test policies must compile');
    expect(() => assertEveryPersonalTablePurged(seed.policy)).not.toThrow();
    expect(() => assertEveryPersonalTablePurged(extended.policy)).toThrow(expect.objectContaining({ code: 'INTERNAL', details: { table: 'loyalty_cards' } }));
    const rights = { policy: extended.policy } as unknown as RightsDeps;
    expect(() => openRights(rights)).toThrow(/personal table has no purge/);
  });
});
