import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { policyFile } from '../support/policy-text.js';
import { systemContext } from '../../src/internal/context.js';
import { Insights } from '../../src/modules/telemetry/insights.service.js';
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
const insightsWith = (stack: TestStack, random: () => number) => new Insights(stack.services.engine.db, stack.kind, stack.services.policy, stack.services.audit, random);
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

  it('R-AGG-1: the budget belongs to the days a release covers: a new dataset name or grouping over a spent day is refused, and a refusal charges nothing', async () => {
    const { epsilon, budgetPerDay } = stack.services.policy.telemetry;
    const releases = Math.floor(budgetPerDay / epsilon);
    await insert(stack, people('wide', 200, 'zhimi.fan.za5', ['2025-01-01', '2025-01-02']));
    const values: number[] = [];
    for (let i = 0; i < releases; i++) {
      const res = await release({ dataset: 'models-2025', groupBy: 'model', from: '2025-01-01', to: '2025-01-02' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-privacy-epsilon']).toBe(String(epsilon));
      expect(Number(res.headers['x-privacy-budget-remaining'])).toBeCloseTo(budgetPerDay - (i + 1) * epsilon, 6);
      expect(res.body).not.toContain('wide-');
      const line = res.body.split('\r\n').find((l) => l.startsWith('zhimi.fan.za5,'));
      values.push(Number(line?.split(',')[1]));
    }
    // 200 people: the noisy count is published every time (P(noise < −190) ≈ e^-47), within 30 scales of the truth
    // (P ≈ e^-30 per release), and not the exact 200 every time (P ≈ 0.12^10).
    const scale = stack.services.policy.telemetry.maxGroupsPerPseudonym / epsilon;
    for (const v of values) expect(Math.abs(v - 200)).toBeLessThan(30 * scale);
    expect(values.some((v) => v !== 200)).toBe(true);

    const renamed = await release({ dataset: 'a-fresh-name', groupBy: 'region', from: '2025-01-01', to: '2025-01-02' });
    expect(renamed.statusCode).toBe(409);
    expect(renamed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(renamed.json()).toMatchObject({ code: 'PRIVACY_BUDGET_SPENT', details: { day: '2025-01-01', total: budgetPerDay, epsilon } });
    const overlapping = await release({ dataset: 'week-1', groupBy: 'day', from: '2025-01-02', to: '2025-01-03' });
    expect(overlapping.statusCode).toBe(409);
    expect(overlapping.json().code).toBe('PRIVACY_BUDGET_SPENT');
    expect((await ledger())['2025-01-03'] ?? 0).toBe(0);

    expect((await release({ dataset: 'models-2025', groupBy: 'model', from: '2025-01-03', to: '2025-01-03' })).statusCode).toBe(200);
    const spent = await ledger();
    expect(spent['2025-01-01']).toBeCloseTo(releases * epsilon, 9);
    expect(spent['2025-01-02']).toBeCloseTo(releases * epsilon, 9);
    expect(spent['2025-01-03']).toBeCloseTo(epsilon, 9);
    const audited = await stack.services.engine.db.selectFrom('audit_log').select('details').where('action', '=', 'insights.released').execute();
    expect(audited.filter((a) => JSON.parse(a.details).from?.startsWith('2025-01-0')).length).toBe(releases + 1);
  });

  it('R-AGG-1: releases over the same day at the same time never spend more than its budget together', async () => {
    const { epsilon, budgetPerDay } = stack.services.policy.telemetry;
    const fits = Math.floor(budgetPerDay / epsilon);
    const answers = await Promise.all(Array.from({ length: fits + 4 }, (_, i) => release({ dataset: `race-${i}`, groupBy: 'model', from: '2025-01-10', to: '2025-01-10' })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(fits);
    expect(answers.filter((a) => a.statusCode === 409 && a.json().code === 'PRIVACY_BUDGET_SPENT')).toHaveLength(4);
    expect((await ledger())['2025-01-10']).toBeCloseTo(fits * epsilon, 9);
  });

  it('R-AGG-1: grouped by day, a pseudonym counts in at most m days, and the noise scale is m/ε', async () => {
    const days = ['2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04', '2025-02-05', '2025-02-06'];
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

  it('R-AGG-1: small groups are suppressed on the noisy value, not the exact one; days and events with no one in them get a noisy count too', async () => {
    const { epsilon, maxGroupsPerPseudonym: m } = stack.services.policy.telemetry;
    const lift = Math.round((m / epsilon) * Math.log(50));
    const q = { groupBy: 'model' as const, from: day, to: day };
    expect((await insightsWith(stack, NO_NOISE).release(ctx, 'models', q)).groups).toEqual([{ key: 'zhimi.fan.za5', value: 12 }]);
    // 4 heater people (exact < k) are published when the noise lifts them over k; 12 fan people are not when it sinks them.
    expect((await insightsWith(stack, HIGH).release(ctx, 'models', q)).groups).toEqual([
      { key: 'zhimi.fan.za5', value: 12 + lift },
      { key: 'zhimi.heater.ma2', value: 4 + lift },
    ]);
    expect((await insightsWith(stack, LOW).release(ctx, 'models', q)).groups).toEqual([]);
    const events = await insightsWith(stack, HIGH).release(ctx, 'events', { groupBy: 'event', from: '2025-02-01', to: '2025-02-06' });
    expect(events.groups.map((g) => g.key)).toEqual([...stack.services.policy.telemetry.events.keys()].sort());
  });
});

describe.each(ENGINES)('aggregates under a policy with other k, m and ε on %s', (kind) => {
  let stacks: { seed: TestStack; changed: TestStack };
  const day = '2025-03-01';
  const days = ['2025-03-02', '2025-03-03', '2025-03-04'];
  beforeAll(async () => {
    const file = policyFile((d) => Object.assign(d.telemetry, { minGroupSize: 5, maxGroupsPerPseudonym: 2, epsilon: 0.5 }));
    stacks = { seed: await createStack(kind), changed: await createStack(kind, { env: { PLEDGE_POLICY: file } }) };
    for (const stack of Object.values(stacks)) {
      await insert(stack, [...people('a', 12, 'model.a', [day]), ...people('b', 6, 'model.b', [day]), ...people('c', 4, 'model.c', [day])]);
      await insert(stack, people('daily', 30, 'model.a', days));
    }
  });
  afterAll(async () => {
    await stacks.changed.close();
    await stacks.seed.close();
  });

  it('R-AGG-1: suppression follows the policy\'s k (a group of 6 is published under k = 5 and suppressed under k = 10)', async () => {
    expect(stacks.changed.services.policy.telemetry.minGroupSize).toBe(5);
    const q = { groupBy: 'model' as const, from: day, to: day };
    expect((await insightsWith(stacks.changed, NO_NOISE).release(ctx, 'models', q)).groups).toEqual([{ key: 'model.a', value: 12 }, { key: 'model.b', value: 6 }]);
    expect((await insightsWith(stacks.seed, NO_NOISE).release(ctx, 'models', q)).groups).toEqual([{ key: 'model.a', value: 12 }]);
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
