import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { signedInUser } from './support.js';

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

  it('R-AGG-1: a public release adds Laplace noise, suppresses small groups, spends the budget per dataset and refuses when it is spent', async () => {
    const { epsilon, budgetPerDataset } = stack.services.policy.telemetry;
    const releases = Math.floor(budgetPerDataset / epsilon);
    const values: number[] = [];
    for (let i = 0; i < releases; i++) {
      const res = await stack.app.inject({ method: 'POST', url: '/v1/insights/releases', headers: { 'x-api-key': apiKey }, payload: { dataset: 'models-2026', groupBy: 'model', from: day, to: day } });
      expect(res.statusCode, stack.logs.text().split('\n').filter((l) => l.includes('"level":50')).join('\n').slice(-1500)).toBe(200);
      expect(res.headers['x-privacy-epsilon']).toBe(String(epsilon));
      expect(res.body).not.toContain('zhimi.heater.ma2');
      const line = res.body.split('\r\n').find((l) => l.startsWith('zhimi.fan.za5,'));
      if (line) values.push(Number(line.split(',')[1]));
    }
    expect(values.some((v) => v !== 12)).toBe(true);
    const spent = await stack.app.inject({ method: 'POST', url: '/v1/insights/releases', headers: { 'x-api-key': apiKey }, payload: { dataset: 'models-2026', groupBy: 'model', from: day, to: day } });
    expect(spent.statusCode).toBe(409);
    expect(spent.json().code).toBe('PRIVACY_BUDGET_SPENT');
    const other = await stack.app.inject({ method: 'POST', url: '/v1/insights/releases', headers: { 'x-api-key': apiKey }, payload: { dataset: 'regions-2026', groupBy: 'region', from: day, to: day } });
    expect(other.statusCode).toBe(200);
  });
});
