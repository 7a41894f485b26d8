import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { PIXEL_GIF } from '../../src/modules/telemetry/pixels.service.js';
import { systemContext } from '../../src/internal/context.js';
import { newUser } from '../support/people.js';
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

/** The decoded text of a delivered message (.eml in the mail directory): quoted-printable soft breaks and escapes undone. */
const emlText = (dir: string, outboxId: string): string =>
  fs
    .readFileSync(path.join(dir, `${outboxId}.eml`), 'utf8')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

describe.each(ENGINES)('product updates: e-mail frequency rule and open pixels, end to end on %s', (kind) => {
  const PUBLIC = 'https://privacy.example.test';
  let stack: TestStack;
  let kit: ConsentKit;
  beforeAll(async () => {
    stack = await createStack(kind, { env: { PLEDGE_PUBLIC_URL: PUBLIC } });
    kit = await consentKit(stack);
  });
  afterAll(async () => stack.close());

  const ctx = systemContext('test');
  const db = () => stack.services.engine.db;
  // Twice: the first call may join a run of the worker's timer that began before the messages were queued.
  const deliver = async () => {
    await stack.services.outbox.deliverDue();
    await stack.services.outbox.deliverDue();
  };
  const messagesOf = (subjectId: string, kindOf: string) =>
    db().selectFrom('outbox').select(['id', 'status', 'created_at']).where('subject_id', '=', subjectId).where('kind', '=', kindOf).orderBy('created_at').execute();
  const pixelPaths = (eml: string) => [...eml.matchAll(/https:\/\/privacy\.example\.test(\/v1\/px\/px_[\w-]+\.gif)/g)].map((m) => m[1]!);
  const send = (subjectIds: string[], i: number) =>
    stack.services.productUpdates.send(ctx, { subjectIds, update: { title: `Smartmi Air Purifier 4 firmware ${i}`, text: 'Quieter night mode.\n\nUpdate from the app.' } });

  /** Moves everything these people were sent, and their recorded opens, `days` into the past ("a week ago"). */
  async function age(subjectIds: string[], days: number): Promise<void> {
    const back = (iso: string | null) => (iso === null ? null : new Date(Date.parse(iso) - days * 86_400_000).toISOString());
    for (const m of await db().selectFrom('outbox').select(['id', 'created_at', 'sent_at']).where('subject_id', 'in', subjectIds).execute()) {
      await db().updateTable('outbox').set({ created_at: back(m.created_at)!, sent_at: back(m.sent_at) }).where('id', '=', m.id).execute();
    }
    for (const t of await db().selectFrom('pixel_tokens').select(['token_hash', 'created_at']).where('subject_id', 'in', subjectIds).execute()) {
      await db().updateTable('pixel_tokens').set({ created_at: back(t.created_at)! }).where('token_hash', '=', t.token_hash).execute();
    }
    for (const o of await db().selectFrom('email_opens').select(['id', 'opened_at']).where('subject_id', 'in', subjectIds).execute()) {
      await db().updateTable('email_opens').set({ opened_at: back(o.opened_at)! }).where('id', '=', o.id).execute();
    }
  }

  it('R-TEL-5, R-USE-4: people who consented but never open get fewer product updates than readers; nobody without the consent gets a pixel; codes are never held back nor tracked', async () => {
    const ignorer = await newUser(stack);
    const reader = await newUser(stack);
    const untracked = await newUser(stack);
    for (const u of [ignorer, reader]) await kit.optIn(u.id, 'email_open_tracking');
    const everyone = [ignorer.id, reader.id, untracked.id];
    const dir = stack.config.mailDir;

    // Two past weeks of three and two updates, all allowed (fewer than 5 tracked e-mails: the default of 3 a week).
    for (const [week, n] of [[0, 3], [1, 2]] as const) {
      for (let i = 0; i < n; i++) expect(await send(everyone, week * 3 + i)).toEqual({ queued: 3, heldBack: 0, failed: [] });
      await deliver();
      for (const m of await messagesOf(reader.id, 'product_update')) {
        expect(m.status).toBe('sent');
        for (const px of pixelPaths(emlText(dir, m.id))) expect((await stack.app.inject({ method: 'GET', url: px })).statusCode).toBe(200);
      }
      await age(everyone, 8);
    }
    expect(await stack.services.telemetry.pixels.allowance(db(), ignorer.id)).toEqual({ perWeek: 1, reason: 'never_opened' });
    expect(await stack.services.telemetry.pixels.allowance(db(), reader.id)).toEqual({ perWeek: 3, reason: 'default' });

    // This week: three more updates to everyone.
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await send(everyone, 10 + i));
    expect(results.reduce((n, r) => n + r.heldBack, 0)).toBe(2);
    await deliver();
    const weekAgo = Date.now() - 7 * 86_400_000;
    const thisWeek = async (subjectId: string) => (await messagesOf(subjectId, 'product_update')).filter((m) => Date.parse(m.created_at) > weekAgo);
    expect((await thisWeek(ignorer.id)).length).toBe(1);
    expect((await thisWeek(reader.id)).length).toBe(3);
    expect((await thisWeek(untracked.id)).length).toBe(3);

    // Every delivered update of the consenting people carries exactly one pixel, on the public origin; none of the other's.
    for (const u of [ignorer, reader]) for (const m of await messagesOf(u.id, 'product_update')) expect(pixelPaths(emlText(dir, m.id))).toHaveLength(1);
    const plain = await messagesOf(untracked.id, 'product_update');
    expect(plain).toHaveLength(8);
    for (const m of plain) {
      expect(m.status).toBe('sent');
      const eml = emlText(dir, m.id);
      expect(eml).toContain('<h1>Smartmi Air Purifier 4 firmware');
      expect(eml).not.toContain('/v1/px/');
      expect(eml).not.toContain('<img');
    }
    expect(await db().selectFrom('pixel_tokens').select('token_hash').where('subject_id', '=', untracked.id).execute()).toEqual([]);

    // A transactional message to the person whose allowance is used up: sent at once, without a pixel.
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: ignorer.auth })).statusCode).toBe(202);
    await deliver();
    const codes = await messagesOf(ignorer.id, 'step_up_code');
    expect(codes.map((c) => c.status)).toEqual(['sent']);
    const code = emlText(dir, codes[0]!.id);
    expect(code).toContain('Your code:');
    expect(code).not.toContain('/v1/px/');
    expect(code).not.toContain('<img');
  });

  it('R-TEL-5: withdrawing the open-tracking consent stops the pixel in the very next update', async () => {
    const u = await newUser(stack);
    await kit.optIn(u.id, 'email_open_tracking');
    await send([u.id], 1);
    await kit.optOut(u.id, 'email_open_tracking');
    await send([u.id], 2);
    await deliver();
    const [first, second] = await messagesOf(u.id, 'product_update');
    expect(pixelPaths(emlText(stack.config.mailDir, first!.id))).toHaveLength(1);
    expect(emlText(stack.config.mailDir, second!.id)).not.toContain('/v1/px/');
  });

  it('R-USE-4: a product update to an unknown person is reported as failed, the others are queued', async () => {
    const u = await newUser(stack);
    const r = await send([u.id, randomUUID()], 3);
    expect(r.queued).toBe(1);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]!.code).toMatch(/^[A-Z_]+$/);
  });
});
