import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { staffKey } from '../support/people.js';
import { DECLINE_EXPLANATIONS } from '../../src/modules/rights/rights.js';
import { makePerson, userCtx } from './person.js';

/** The body of an .eml as the person reads it: quoted-printable soft breaks joined, escapes decoded. */
const readable = (raw: string): string => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

describe.each(ENGINES)('the person is told about a declined request on %s', (kind) => {
  let stack: TestStack;
  let adminKey: string;
  beforeAll(async () => {
    stack = await createStack(kind);
    adminKey = await staffKey(stack, 'dpo');
  });
  afterAll(async () => stack.close());

  /** The messages the outbox delivered to `to` (PLEDGE_MAIL_DIR stands for the mailboxes), as the person reads them. */
  async function mailTo(to: string): Promise<string[]> {
    // A delivery already running (kicked or on its timer) is joined, not restarted: drain until idle.
    while ((await stack.services.outbox.deliverDue()).sent > 0);
    const dir = stack.config.mailDir;
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => readable(fs.readFileSync(path.join(dir, f), 'utf8')))
      .filter((m) => m.toLowerCase().includes(`to: ${to.toLowerCase()}`));
  }

  const declinedRows = (subjectId: string) =>
    stack.services.engine.db.selectFrom('outbox').select(['kind', 'purpose', 'status']).where('subject_id', '=', subjectId).where('kind', '=', 'rights_request_declined').execute();

  it('R-DSR-4: a request declined by screening queues one message to the person naming the reason and the supervisory authority', async () => {
    const person = await makePerson(stack, 0);
    const r = await stack.services.rights.requests.file(userCtx(person.id), {
      subjectId: person.id, type: 'erase_partial', params: { target: { kind: 'device', id: randomUUID() } }, verification: { stepUpAt: new Date().toISOString() },
    });
    expect(r.status).toBe('declined');
    expect(r.declineReason).toBe('UNREALISTIC');
    expect((await declinedRows(person.id)).map((m) => [m.kind, m.purpose])).toEqual([['rights_request_declined', 'subject_rights']]);
    const mails = await mailTo(person.email);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail).toContain('Subject: Your privacy request was declined');
    expect(mail).toContain(r.id);
    expect(mail).toContain(DECLINE_EXPLANATIONS.UNREALISTIC);
    expect(mail).toContain('UNREALISTIC');
    expect(mail).toMatch(/complaint with a data protection supervisory\s+authority/);
    expect(await declinedRows(person.id)).toEqual([{ kind: 'rights_request_declined', purpose: 'subject_rights', status: 'sent' }]);
  });

  it('R-DSR-4: staff declining an open request tells the person why and that they may complain; a request that goes through sends no such message', async () => {
    const person = await makePerson(stack, 1);
    // A request that completes tells nobody it was declined.
    await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'access', params: {}, verification: {} });
    // An erasure interrupted after its first step (holding orders; the key is intact) stays open for staff.
    stack.services.rights.doer.onErasureStep = () => {
      throw new Error('crash');
    };
    await expect(stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: { stepUpAt: new Date().toISOString() } })).rejects.toThrow('crash');
    stack.services.rights.doer.onErasureStep = undefined;
    expect(await declinedRows(person.id)).toEqual([]);
    const open = (await stack.services.rights.requests.list(person.id)).find((q) => q.type === 'erase_account')!;
    expect(open.status).toBe('in_progress');
    const res = await stack.app.inject({ method: 'POST', url: `/v1/admin/requests/${open.id}/decline`, headers: { 'x-api-key': adminKey }, payload: { reason: 'OTHERS_PRIVACY' } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await declinedRows(person.id)).map((m) => m.kind)).toEqual(['rights_request_declined']);
    const mails = await mailTo(person.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain(open.id);
    expect(mails[0]).toContain(DECLINE_EXPLANATIONS.OTHERS_PRIVACY);
    expect(mails[0]).toMatch(/supervisory\s+authority/);
  });
});
