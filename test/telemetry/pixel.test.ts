import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { PIXEL_GIF } from '../../src/modules/telemetry/pixels.service.js';
import { consentKit, newSubject, type ConsentKit } from './support.js';

describe.each(ENGINES)('e-mail pixels on %s', (kind) => {
  let stack: TestStack;
  let kit: ConsentKit;
  beforeAll(async () => {
    stack = await createStack(kind);
    kit = await consentKit(stack);
  });
  afterAll(async () => stack.close());

  const opens = async (subjectId: string) => (await stack.services.engine.db.selectFrom('email_opens').select('message_ref').where('subject_id', '=', subjectId).execute()).length;
  const pixel = (subjectId: string, ref: string) => stack.services.telemetry.pixels.pixelFor(stack.services.engine.db, subjectId, ref);

  it('R-TEL-5: an open is recorded only for a person who consented; everyone gets the same 1×1 GIF', async () => {
    const yes = newSubject();
    const no = newSubject();
    await kit.optIn(yes, 'email_open_tracking');
    const answers = [];
    for (const [subject, ref] of [[yes, 'm1'], [no, 'm2']] as const) {
      const url = await pixel(subject, ref);
      expect(url).toMatch(/^\/v1\/px\/px_[\w-]+\.gif$/);
      const res = await stack.app.inject({ method: 'GET', url });
      answers.push({ status: res.statusCode, type: res.headers['content-type'], cache: res.headers['cache-control'], body: res.rawPayload.toString('base64') });
    }
    const unknown = await stack.app.inject({ method: 'GET', url: '/v1/px/px_doesnotexist0000.gif' });
    answers.push({ status: unknown.statusCode, type: unknown.headers['content-type'], cache: unknown.headers['cache-control'], body: unknown.rawPayload.toString('base64') });
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 200, type: 'image/gif', body: PIXEL_GIF.toString('base64') });
    expect(await opens(yes)).toBe(1);
    expect(await opens(no)).toBe(0);
    await kit.optOut(yes, 'email_open_tracking');
    await stack.app.inject({ method: 'GET', url: await pixel(yes, 'm3') });
    expect(await opens(yes)).toBe(1);
  });

  it('R-TEL-5: recorded opens lower the e-mail frequency the outbox may use ("send fewer e-mails")', async () => {
    const { pixels } = stack.services.telemetry;
    const db = stack.services.engine.db;
    const reader = newSubject();
    const ignorer = newSubject();
    const rare = newSubject();
    for (const s of [reader, ignorer, rare]) await kit.optIn(s, 'email_open_tracking');
    for (let i = 0; i < 8; i++) {
      const r = await pixel(reader, `r${i}`);
      await stack.app.inject({ method: 'GET', url: r });
      await pixel(ignorer, `i${i}`);
      const q = await pixel(rare, `q${i}`);
      if (i === 0) await stack.app.inject({ method: 'GET', url: q });
    }
    expect(await pixels.allowance(db, reader)).toEqual({ perWeek: 3, reason: 'default' });
    expect(await pixels.allowance(db, ignorer)).toEqual({ perWeek: 1, reason: 'never_opened' });
    expect(await pixels.allowance(db, rare)).toEqual({ perWeek: 2, reason: 'rarely_opened' });
    await kit.optOut(ignorer, 'email_open_tracking');
    expect((await pixels.allowance(db, ignorer)).reason).toBe('default');
  });
});
