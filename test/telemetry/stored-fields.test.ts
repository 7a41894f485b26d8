import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import type { CompiledPolicy } from '../../src/modules/policy/policy.js';
import { AccessLogWriter } from '../../src/modules/telemetry/access-log.js';
import { Pixels } from '../../src/modules/telemetry/pixels.service.js';
import { TelemetryIngestion } from '../../src/modules/telemetry/ingestion.service.js';
import { consentKit, newSubject, usageEvents, type ConsentKit } from './support.js';

/** The deployed policy with one field declaration taken out, as if a store wrote a field the policy does not name. */
const without = (policy: CompiledPolicy, field: string): CompiledPolicy => ({ ...policy, fields: new Map([...policy.fields].filter(([k]) => k !== field)) });

describe.each(ENGINES)('R-CLS-1 at write time in the telemetry stores on %s', (kind) => {
  let stack: TestStack;
  let kit: ConsentKit;
  beforeAll(async () => {
    stack = await createStack(kind);
    kit = await consentKit(stack);
  });
  afterAll(async () => {
    await kit.stop();
    await stack.close();
  });

  const count = async (table: 'telemetry_events' | 'access_log' | 'pixel_tokens') => Number((await stack.services.engine.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('R-CLS-1: usage events are refused with UNDECLARED_FIELD and nothing is stored when a column they fill is not declared', async () => {
    const { engine, policy, telemetry } = stack.services;
    const subjectId = newSubject();
    await kit.optIn(subjectId);
    const source = { subjectId, model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN' };
    const before = await count('telemetry_events');
    const undeclared = new TelemetryIngestion(engine, without(policy, 'telemetry_events.firmware'), telemetry.gate, telemetry.pseudonyms);
    await expect(undeclared.ingest(source, usageEvents(3))).rejects.toMatchObject({ code: 'UNDECLARED_FIELD' });
    expect(await count('telemetry_events')).toBe(before);
    // The same write under the deployed policy is stored: the refusal came from the missing declaration.
    await expect(telemetry.ingestion.ingest(source, usageEvents(3))).resolves.toEqual({ accepted: 3 });
    expect(await count('telemetry_events')).toBe(before + 3);
  });

  it('R-CLS-1: an access-log batch with an undeclared column is not written', async () => {
    const { engine, policy } = stack.services;
    const row = { id: crypto.randomUUID(), subject_id: null, at: new Date().toISOString(), ip: '203.0.113.7', ip_prefix: '203.0.113.0/24', ip_truncated: 0, browser: 'Firefox 120', os: 'Linux', language: 'de', referrer: null, method: 'GET', route: '/v1/x', status: 200, clickstream: 'c1' };
    const failures: unknown[] = [];
    const before = await count('access_log');
    const noSealing = () => Promise.reject(new Error('an anonymous row is never sealed'));
    const undeclared = new AccessLogWriter(engine.db, without(policy, 'access_log.referrer'), noSealing, (e) => failures.push(e));
    undeclared.push(row);
    await undeclared.flush();
    expect(failures).toEqual([expect.objectContaining({ code: 'UNDECLARED_FIELD' })]);
    expect(await count('access_log')).toBe(before);
    const declared = new AccessLogWriter(engine.db, policy, noSealing, (e) => failures.push(e));
    declared.push({ ...row, id: crypto.randomUUID() });
    await declared.flush();
    expect(failures).toHaveLength(1);
    expect(await count('access_log')).toBe(before + 1);
  });

  it('R-CLS-1: a pixel token is not issued when its message reference is not declared', async () => {
    const { engine, policy, audit, telemetry } = stack.services;
    const before = await count('pixel_tokens');
    const undeclared = new Pixels(engine.db, without(policy, 'pixel_tokens.message_ref'), audit, telemetry.gate);
    await expect(undeclared.pixelFor(engine.db, newSubject(), 'msg-1')).rejects.toMatchObject({ code: 'UNDECLARED_FIELD' });
    expect(await count('pixel_tokens')).toBe(before);
    await telemetry.pixels.pixelFor(engine.db, newSubject(), 'msg-2');
    expect(await count('pixel_tokens')).toBe(before + 1);
  });
});
