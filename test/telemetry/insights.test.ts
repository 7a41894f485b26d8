import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { sql } from 'kysely';
import { policyFile } from '../support/policy-text.js';
import { migrateToLatest } from '../../src/internal/db/migrate.js';
import { systemContext } from '../../src/internal/context.js';
import { Insights } from '../../src/modules/telemetry/insights.service.js';
import { coveredDays } from '../../src/modules/telemetry/insights.release.js';
import { signedInUser } from './support.js';

type EventRow = { pseudonym: string; event: string; fields: string; model: string; firmware: string; region: string; day: string };
const used = (pseudonym: string, model: string, day: string): EventRow => ({ pseudonym, event: 'feature_used', fields: JSON.stringify({ feature: 'night', durationMs: 5 }), model, firmware: '2.4.1', region: 'CN', day });
const people = (prefix: string, n: number, model: string, days: readonly string[]): EventRow[] =>
  Array.from({ length: n }, (_, p) => days.map((d) => used(`${prefix}-${p}`, model, d))).flat();
const insert = (stack: TestStack, rows: readonly EventRow[]) => stack.services.engine.db.insertInto('telemetry_events').values([...rows]).execute();

// Uniform draws that give known noise: u = 0.5 gives none, 0.99 gives +scale·ln 50, 0.01 gives −scale·ln 50.
const NO_NOISE = (): number => 0.5;
const HIGH = (): number => 0.99;
const LOW = (): number => 0.01;
/** The service as the server builds it, but with a chosen noise source. */
const insightsWith = (stack: TestStack, random: () => number) =>
  new Insights(stack.services.engine.db, stack.kind, stack.services.policy, stack.services.audit, stack.services.telemetry.pseudonyms, random);
const ctx = systemContext('test');

describe.each(ENGINES)('aggregates of usage events on %s', (kind) => {
  let stack: TestStack;
  let apiKey: string;
  const day = new Date().toISOString().slice(0, 10);
  beforeAll(async () => {
    stack = await createStack(kind);
    const rows = [];
    // zhimi.fan.za5: 12 people, 3 events each; zhimi.heater.ma2: 4 people (under k = 10).
    for (let p = 0; p < 12; p++) for (let e = 0; e < 3; e++) rows.push({ pseudonym: `fan-${p}`, event: 'feature_used', fields: JSON.stringify({ feature: 'night', durationMs: (p + 1) * 100 }), model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN', day });
    for (let p = 0; p < 4; p++) rows.push({ pseudonym: `heat-${p}`, event: 'feature_used', fields: JSON.stringify({ feature: 'eco', durationMs: 5 }), model: 'zhimi.heater.ma2', firmware: '1.2.4', region: 'DE', day });
    await stack.services.engine.db.insertInto('telemetry_events').values(rows).execute();
    apiKey = (await stack.services.apiKeys.create(stack.services.engine.db, systemContext('test'), 'product-team')).secret;
  });
  afterAll(async () => stack.close());

  const get = (qs: string, headers: Record<string, string> = { 'x-api-key': apiKey }) => stack.app.inject({ method: 'GET', url: `/v1/insights/events?${qs}`, headers });
  const release = (payload: Record<string, string>) => stack.app.inject({ method: 'POST', url: '/v1/insights/releases', headers: { 'x-api-key': apiKey }, payload });
  const ledger = async () => Object.fromEntries((await stack.services.engine.db.selectFrom('privacy_budget_days').select(['day', 'spent']).execute()).map((r) => [r.day, Number(r.spent)]));
  const range = `from=${day}&to=${day}`;

  it('R-AGG-1: counts, distinct people and percentiles per group; groups under k people are suppressed', async () => {
    const count = (await get(`metric=count&groupBy=model&${range}`)).json();
    expect(count).toEqual({ k: 10, suppressed: 1, groups: [{ key: 'zhimi.fan.za5', value: 36 }] });
    expect((await get(`metric=distinct&groupBy=region&${range}`)).json().groups).toEqual([{ key: 'CN', value: 12 }]);
    const p50 = (await get(`metric=p50&groupBy=model&event=feature_used&field=durationMs&${range}`)).json();
    expect(p50.groups).toEqual([{ key: 'zhimi.fan.za5', value: 600 }]);
    const p95 = (await get(`metric=p95&groupBy=day&event=feature_used&field=durationMs&${range}`)).json();
    expect(p95.groups).toEqual([{ key: day, value: 1200 }]);
    const csv = await get(`metric=count&groupBy=model&${range}&format=csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body).toBe('model,count\r\nzhimi.fan.za5,36\r\n');
  });

  it('R-USE-3: a device owner\'s session gets 403 and no key gets 401; aggregates never name a pseudonym', async () => {
    expect((await get(`metric=count&groupBy=model&${range}`, {})).statusCode).toBe(401);
    expect((await get(`metric=count&groupBy=model&${range}`, { 'x-api-key': 'pk_wrong' })).statusCode).toBe(401);
    const { token } = await signedInUser(stack, 'ana@example.org');
    const res = await get(`metric=count&groupBy=model&${range}`, { authorization: `Bearer ${token}` });
    expect(res.statusCode).toBe(403);
    expect((await get(`metric=distinct&groupBy=event&${range}`)).body).not.toContain('fan-');
  });

  it('R-AGG-1: the budget belongs to the pseudonym epoch: releases over other days of the same epoch, under any name or grouping, draw from it; a refusal charges nothing; another epoch is not affected', async () => {
    const { epsilon, budgetPerEpoch } = stack.services.policy.telemetry;
    const { pseudonyms } = stack.services.telemetry;
    const epochOf = (d: string): number => pseudonyms.epochOf(Date.parse(`${d}T00:00:00Z`));
    // 30-day epochs: 2025-01-01, -05 and -09 all lie in the epoch 2024-12-13 … 2025-01-11; 2025-04-20 four epochs on.
    expect(new Set(['2024-12-13', '2025-01-01', '2025-01-05', '2025-01-09', '2025-01-11'].map(epochOf)).size).toBe(1);
    expect(epochOf('2024-12-12')).toBe(epochOf('2025-01-01') - 1);
    expect(epochOf('2025-04-20') - epochOf('2025-01-01')).toBe(4);
    const releases = Math.floor(budgetPerEpoch / epsilon) - 1;
    await insert(stack, people('wide', 200, 'zhimi.fan.za5', ['2025-01-01', '2025-01-02']));
    const values: number[] = [];
    for (let i = 0; i < releases; i++) {
      const res = await release({ dataset: 'models-2025', groupBy: 'model', from: '2025-01-01', to: '2025-01-02' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-privacy-epsilon']).toBe(String(epsilon));
      expect(Number(res.headers['x-privacy-budget-remaining'])).toBeCloseTo(budgetPerEpoch - (i + 1) * epsilon, 6);
      expect(res.body).not.toContain('wide-');
      const line = res.body.split('\r\n').find((l) => l.startsWith('zhimi.fan.za5,'));
      values.push(Number(line?.split(',')[1]));
    }
    // 200 people: the noisy count is published every time (over τ ≈ 62.5 unless the noise is below −137, P ≈ e^-34),
    // within 30 scales of the truth (P ≈ e^-30 per release), and not the exact 200 every time (P ≈ 0.12^9).
    const scale = stack.services.policy.telemetry.maxGroupsPerPseudonym / epsilon;
    for (const v of values) expect(Math.abs(v - 200)).toBeLessThan(30 * scale);
    expect(values.some((v) => v !== 200)).toBe(true);

    // Other days of the same epoch, another name and grouping: the last ε of the same budget, then nothing more.
    const sameEpoch = await release({ dataset: 'a-fresh-name', groupBy: 'day', from: '2025-01-09', to: '2025-01-09' });
    expect(sameEpoch.statusCode).toBe(200);
    expect(Number(sameEpoch.headers['x-privacy-budget-remaining'])).toBeCloseTo(0, 6);
    const before = await ledger();
    const refused = await release({ dataset: 'week-1', groupBy: 'region', from: '2025-01-05', to: '2025-01-05' });
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'PRIVACY_BUDGET_SPENT', details: { total: budgetPerEpoch, epsilon } });
    expect(await ledger()).toEqual(before);

    // Every day of the epoch carries the sum, and so does the next epoch (events reach up to 31 days back, under
    // the pseudonym of the epoch they arrive in); the days before the epoch do not.
    for (const d of ['2024-12-13', '2025-01-05', '2025-01-11', '2025-01-12', '2025-02-10']) expect(before[d]).toBeCloseTo(budgetPerEpoch, 9);
    expect(before['2024-12-12']).toBeUndefined();
    expect(before['2025-02-11']).toBeUndefined();

    const other = await release({ dataset: 'models-2025', groupBy: 'model', from: '2025-04-20', to: '2025-04-20' });
    expect(other.statusCode).toBe(200);
    expect(Number(other.headers['x-privacy-budget-remaining'])).toBeCloseTo(budgetPerEpoch - epsilon, 6);
    expect((await ledger())['2025-01-05']).toBeCloseTo(budgetPerEpoch, 9);
    const audited = await stack.services.engine.db.selectFrom('audit_log').select('details').where('action', '=', 'insights.released').execute();
    expect(audited.filter((a) => JSON.parse(a.details).from?.startsWith('2025-0')).length).toBe(releases + 2);
  });

  it('R-AGG-1: releases over one epoch at the same time never spend more than its budget together', async () => {
    const { epsilon, budgetPerEpoch } = stack.services.policy.telemetry;
    const fits = Math.floor(budgetPerEpoch / epsilon);
    // Different days of the epoch 2025-08-10 … 2025-09-08, all at once.
    const answers = await Promise.all(Array.from({ length: fits + 4 }, (_, i) => release({ dataset: `race-${i}`, groupBy: 'model', from: `2025-08-${String(12 + i).padStart(2, '0')}`, to: `2025-08-${String(12 + i).padStart(2, '0')}` })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(fits);
    expect(answers.filter((a) => a.statusCode === 409 && a.json().code === 'PRIVACY_BUDGET_SPENT')).toHaveLength(4);
    expect((await ledger())['2025-08-20']).toBeCloseTo(fits * epsilon, 9);
  });

  it('R-AGG-1: grouped by day, a pseudonym counts in at most m days, and the noise scale is m/ε', async () => {
    const days = ['2025-11-20', '2025-11-21', '2025-11-22', '2025-11-23', '2025-11-24', '2025-11-25'];
    await insert(stack, people('daily', 60, 'zhimi.fan.za5', days));
    const { epsilon, maxGroupsPerPseudonym: m } = stack.services.policy.telemetry;
    const q = { groupBy: 'day' as const, from: days[0]!, to: days[5]! };
    const exact = await insightsWith(stack, NO_NOISE).release(ctx, 'daily', q);
    // Unbounded, every day would hold all 60; bounded, the 60 pseudonyms are spread over the days m times each.
    expect(exact.groups.map((g) => g.key)).toEqual(days);
    expect(exact.groups.reduce((s, g) => s + g.value, 0)).toBe(60 * m);
    expect(Math.max(...exact.groups.map((g) => g.value))).toBeLessThan(60);
    const high = await insightsWith(stack, HIGH).release(ctx, 'daily', q);
    expect(high.groups).toEqual(exact.groups.map((g) => ({ key: g.key, value: Math.round(g.value + (m / epsilon) * Math.log(50)) })));
  });

  it('R-AGG-1: a model, firmware or region group is published only when its noisy value reaches τ = k + (m/ε)·ln(1/(2δ)); days and events, public keys, need k and get a noisy count with no one in them', async () => {
    const { epsilon, delta, minGroupSize: k, maxGroupsPerPseudonym: m } = stack.services.policy.telemetry;
    const lift = (m / epsilon) * Math.log(50);
    const tau = k + (m / epsilon) * Math.log(1 / (2 * delta));
    const d = '2026-03-20';
    // 70 people on one model (≥ τ ≈ 62.5), 12 on another (≥ k), one person alone on a third.
    await insert(stack, [...people('big', 70, 'model.big', [d]), ...people('few', 12, 'model.few', [d]), ...people('lone', 1, 'model.lone', [d])]);
    const q = { groupBy: 'model' as const, from: d, to: d };
    const plain = await insightsWith(stack, NO_NOISE).release(ctx, 'models', q);
    expect(plain.threshold).toBeCloseTo(tau, 9);
    expect(plain.delta).toBe(delta);
    expect(plain.groups).toEqual([{ key: 'model.big', value: 70 }]);
    // Lifted by the noise, 12 + lift and 1 + lift pass k (the old rule published the lone person's model) but not τ.
    expect(1 + lift).toBeGreaterThan(k);
    expect((await insightsWith(stack, HIGH).release(ctx, 'models', q)).groups).toEqual([{ key: 'model.big', value: Math.round(70 + lift) }]);
    // Sunk by the noise below τ, 70 people are suppressed: the decision is on the noisy value, not the exact one.
    expect((await insightsWith(stack, LOW).release(ctx, 'models', q)).groups).toEqual([]);
    const events = await insightsWith(stack, HIGH).release(ctx, 'events', { groupBy: 'event', from: '2025-11-20', to: '2025-11-25' });
    expect(events.threshold).toBe(k);
    expect(events.groups.map((g) => g.key)).toEqual([...stack.services.policy.telemetry.events.keys()].sort());
  });
});

describe.each(ENGINES)('aggregates under a policy with other k, m and ε on %s', (kind) => {
  let stacks: { seed: TestStack; changed: TestStack };
  const day = '2025-03-01';
  const days = ['2025-03-02', '2025-03-03', '2025-03-04'];
  const spread = ['2025-03-20', '2025-03-21', '2025-03-22'];
  beforeAll(async () => {
    const file = policyFile((d) => Object.assign(d.telemetry, { minGroupSize: 5, maxGroupsPerPseudonym: 2, epsilon: 0.5, delta: 0.01 }));
    stacks = { seed: await createStack(kind), changed: await createStack(kind, { env: { PLEDGE_POLICY: file } }) };
    for (const stack of Object.values(stacks)) {
      await insert(stack, [...people('a', 12, 'model.a', [day]), ...people('b', 6, 'model.b', [day]), ...people('c', 4, 'model.c', [day])]);
      await insert(stack, people('daily', 30, 'model.a', days));
      await insert(stack, [...people('d1', 12, 'model.a', [spread[0]!]), ...people('d2', 6, 'model.a', [spread[1]!]), ...people('d3', 4, 'model.a', [spread[2]!])]);
    }
  });
  afterAll(async () => {
    await stacks.changed.close();
    await stacks.seed.close();
  });

  it('R-AGG-1: suppression follows the policy\'s k on public keys (a day of 6 people is published under k = 5 and suppressed under k = 10) and its δ on keys from the data', async () => {
    expect(stacks.changed.services.policy.telemetry.minGroupSize).toBe(5);
    const byDay = { groupBy: 'day' as const, from: spread[0]!, to: spread[2]! };
    expect((await insightsWith(stacks.changed, NO_NOISE).release(ctx, 'days', byDay)).groups).toEqual([{ key: spread[0], value: 12 }, { key: spread[1], value: 6 }]);
    expect((await insightsWith(stacks.seed, NO_NOISE).release(ctx, 'days', byDay)).groups).toEqual([{ key: spread[0], value: 12 }]);
    // δ = 0.01, k = 5, scale 2/0.5 = 4: τ = 5 + 4·ln 50 ≈ 20.6; the noise draw +4·ln 50 lifts 12 and 6 over it, not 4.
    const q = { groupBy: 'model' as const, from: day, to: day };
    const lift = 4 * Math.log(50);
    const changed = await insightsWith(stacks.changed, HIGH).release(ctx, 'models', q);
    expect(changed.threshold).toBeCloseTo(5 + lift, 9);
    expect(changed.groups).toEqual([{ key: 'model.a', value: Math.round(12 + lift) }, { key: 'model.b', value: Math.round(6 + lift) }]);
    // The seed's δ = 1e-6 and k = 10 put τ near 62.5: none of these models is published.
    expect((await insightsWith(stacks.seed, HIGH).release(ctx, 'models', q)).groups).toEqual([]);
    const read = await insightsWith(stacks.changed, NO_NOISE).query({ ...q, metric: 'distinct' });
    expect(read).toEqual({ k: 5, suppressed: 1, groups: [{ key: 'model.a', value: 12 }, { key: 'model.b', value: 6 }] });
  });

  it('R-AGG-1: the contribution bound m and ε come from the policy (m = 2, ε = 0.5: noise scale 4)', async () => {
    const q = { groupBy: 'day' as const, from: days[0]!, to: days[2]! };
    const exact = await insightsWith(stacks.changed, NO_NOISE).release(ctx, 'days', q);
    // 30 people on all three days, each counted on 2 of them (on all 3 under the seed's m = 4).
    expect(exact.groups.reduce((s, g) => s + g.value, 0)).toBe(30 * 2);
    expect(exact.epsilon).toBe(0.5);
    const high = await insightsWith(stacks.changed, HIGH).release(ctx, 'days', q);
    expect(high.groups).toEqual(exact.groups.map((g) => ({ key: g.key, value: Math.round(g.value + (2 / 0.5) * Math.log(50)) })));
  });
});

describe.each(ENGINES)('the per-dataset budget of before migration 0810 on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-AGG-1: migration 0810 carries the ε spent under the old per-dataset ledger onto every day whose events it may have covered, then drops that ledger', async () => {
    const { engine, policy } = stack.services;
    const { epsilon, budgetPerEpoch } = policy.telemetry;
    // The store as the landed code left it: spending per dataset name, events on two days, no per-day ledger.
    await sql`drop table privacy_budget_days`.execute(engine.db);
    await sql`create table privacy_budgets (dataset text primary key, spent double precision not null, total double precision not null, updated_at text not null)`.execute(engine.db);
    await sql`insert into privacy_budgets values ('models-2025', 3, 10, '2025-05-21T00:00:00Z'), ('regions', 2.5, 10, '2025-05-21T00:00:00Z')`.execute(engine.db);
    await insert(stack, [...people('old', 3, 'model.old', ['2025-05-01']), ...people('old', 3, 'model.old', ['2025-05-20'])]);
    await sql`delete from pledge_migrations where name = '0810_privacy_budget_days'`.execute(engine.db);
    expect((await migrateToLatest(engine)).applied).toEqual(['0810_privacy_budget_days']);

    const rows = await engine.db.selectFrom('privacy_budget_days').select(['day', 'spent']).orderBy('day').execute();
    // Received up to a day before its date (2025-04-30) and up to 31 days after the last (2025-06-20).
    expect(rows.map((r) => r.day)).toEqual(coveredDays('2025-04-30', '2025-06-20'));
    for (const r of rows) expect(Number(r.spent)).toBeCloseTo(5.5, 9);
    const old = kind === 'postgres'
      ? await sql<{ n: number }>`select count(*) as n from pg_tables where tablename = 'privacy_budgets' and schemaname = current_schema()`.execute(engine.db)
      : await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'privacy_budgets'`.execute(engine.db);
    expect(Number(old.rows[0]!.n)).toBe(0);

    // A release over those days has what the old releases left; one over an epoch without old events has it all.
    const carried = await insightsWith(stack, NO_NOISE).release(ctx, 'after', { groupBy: 'model', from: '2025-05-10', to: '2025-05-10' });
    expect(carried.remaining).toBeCloseTo(budgetPerEpoch - 5.5 - epsilon, 9);
    const fresh = await insightsWith(stack, NO_NOISE).release(ctx, 'after', { groupBy: 'model', from: '2025-10-01', to: '2025-10-01' });
    expect(fresh.remaining).toBeCloseTo(budgetPerEpoch - epsilon, 9);

    // Run again without the old table: nothing more is charged.
    const before = await engine.db.selectFrom('privacy_budget_days').select(['day', 'spent']).orderBy('day').execute();
    await sql`delete from pledge_migrations where name = '0810_privacy_budget_days'`.execute(engine.db);
    await migrateToLatest(engine);
    expect(await engine.db.selectFrom('privacy_budget_days').select(['day', 'spent']).orderBy('day').execute()).toEqual(before);
  });
});
