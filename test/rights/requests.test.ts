import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import type { ActorContext } from '../../src/internal/context.js';

const userCtx = (id: string): ActorContext => ({ actor: { type: 'user', id }, requestId: randomUUID() });
const staffCtx: ActorContext = { actor: { type: 'service', id: 'apikey-dpo' }, requestId: randomUUID() };
const fresh = () => ({ stepUpAt: new Date().toISOString() });

describe.each(ENGINES)('rights request lifecycle on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());
  const rights = () => stack.services.rights.requests;

  it('R-DSR-8: a request has a due date from the policy and a status trail received → verified → in_progress → completed', async () => {
    const subject = randomUUID();
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'access', params: {}, verification: {} });
    expect(r.status).toBe('completed');
    expect(r.trail.map((t) => t.status)).toEqual(['received', 'verified', 'in_progress', 'completed']);
    expect(Date.parse(r.dueAt) - Date.parse(r.receivedAt)).toBe(stack.services.policy.requests.deadlineMs);
    expect(r.verificationMethod).toBe('session');
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['action']).where('target', '=', r.id).execute();
    expect(audit.map((a) => a.action)).toEqual(['rights.request_received', 'rights.request_verified', 'rights.request_in_progress', 'rights.request_completed']);
  });

  it('R-DSR-3: export, correction and erasure need a step-up within the verification window; the method is recorded', async () => {
    const subject = randomUUID();
    for (const type of ['export', 'rectify', 'erase_partial', 'erase_account'] as const) {
      await expect(rights().file(userCtx(subject), { subjectId: subject, type, params: {}, verification: {} })).rejects.toMatchObject({ code: 'VERIFICATION_REQUIRED' });
      const stale = new Date(Date.now() - stack.services.policy.requests.verificationWindowMs - 1000).toISOString();
      await expect(rights().file(userCtx(subject), { subjectId: subject, type, params: {}, verification: { stepUpAt: stale } })).rejects.toMatchObject({ code: 'VERIFICATION_REQUIRED' });
    }
    expect(await rights().list(subject)).toHaveLength(0);
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'export', params: {}, verification: fresh() });
    expect(r.verificationMethod).toBe('session_step_up');
    expect(r.trail.find((t) => t.status === 'verified')?.reason).toBe('session_step_up');
  });

  it('R-DSR-4: the request over the policy limit is declined REPETITIVE with the reason recorded; staff override with a justification, audited', async () => {
    const subject = randomUUID();
    const max = stack.services.policy.requests.limits.get('access')!.max;
    for (let i = 0; i < max; i++) expect((await rights().file(userCtx(subject), { subjectId: subject, type: 'access', params: {}, verification: {} })).status).toBe('completed');
    const over = await rights().file(userCtx(subject), { subjectId: subject, type: 'access', params: {}, verification: {} });
    expect(over.status).toBe('declined');
    expect(over.declineReason).toBe('REPETITIVE');
    expect(over.trail.map((t) => [t.status, t.reason])).toEqual([['received', null], ['declined', 'REPETITIVE']]);
    const ok = await rights().override(staffCtx, over.id, 'The person lost the earlier answers in a house move; answering once more is reasonable.');
    expect(ok.status).toBe('completed');
    expect(ok.overrideJustification).toMatch(/house move/);
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['action', 'actor']).where('target', '=', over.id).execute();
    expect(audit).toContainEqual({ action: 'rights.decline_overridden', actor: 'service:apikey-dpo' });
  });

  it('R-DSR-4: a correction of a field nobody can correct is declined UNREALISTIC', async () => {
    const subject = randomUUID();
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'rectify', params: { fields: ['accounts.favourite_colour'] }, verification: fresh() });
    expect(r.status).toBe('declined');
    expect(r.declineReason).toBe('UNREALISTIC');
  });

  it('R-DSR-8: staff may file on a person\'s behalf (recorded), extend with a reason up to the policy maximum, and the queue lists overdue requests', async () => {
    const subject = randomUUID();
    await expect(rights().file(staffCtx, { subjectId: subject, type: 'access', params: {}, verification: {} })).rejects.toMatchObject({ code: 'VERIFICATION_REQUIRED' });
    // An erasure interrupted after its first step stays in progress, as after a crash.
    stack.services.rights.doer.onErasureStep = () => {
      throw new Error('interrupted');
    };
    await expect(rights().file(staffCtx, { subjectId: subject, type: 'erase_account', params: {}, verification: { staffAttested: true } })).rejects.toThrow('interrupted');
    stack.services.rights.doer.onErasureStep = undefined;
    const [open] = await rights().list(subject);
    expect(open!.filedBy).toBe('service:apikey-dpo');
    expect(open!.verificationMethod).toBe('staff_attested');
    const max = stack.services.policy.requests.maxExtensionMs;
    await expect(rights().extend(staffCtx, open!.id, max + 1, 'complex')).rejects.toMatchObject({ code: 'EXTENSION_TOO_LONG' });
    const ext = await rights().extend(staffCtx, open!.id, max, 'Orders under legal hold must be re-encrypted first');
    expect(ext.status).toBe('extended');
    expect(Date.parse(ext.dueAt) - Date.parse(open!.dueAt)).toBe(max);
    expect(ext.trail.at(-1)).toMatchObject({ status: 'extended', reason: 'Orders under legal hold must be re-encrypted first' });
    await expect(rights().extend(staffCtx, open!.id, 1, 'more')).rejects.toMatchObject({ code: 'EXTENSION_TOO_LONG' });
    await stack.services.engine.db.updateTable('rights_requests').set({ due_at: '2020-01-01T00:00:00.000Z' }).where('id', '=', open!.id).execute();
    const overdue = await rights().queue({ overdue: true });
    expect(overdue.map((r) => r.id)).toEqual([open!.id]);
    expect((await rights().queue({ type: 'erase_account', status: 'extended' })).map((r) => r.id)).toEqual([open!.id]);
    const done = await rights().resume(staffCtx, open!.id);
    expect(done.status).toBe('completed');
    expect(await rights().queue({ overdue: true })).toHaveLength(0);
  });
  it('R-DSR-2: a restriction makes the decision engine answer SUBJECT_RESTRICTED for everything but legal obligations, until lifted', async () => {
    const subject = randomUUID();
    const decide = (purpose: string, category: string) => stack.services.consent.decisions.decide({ subjectId: subject, purpose, category });
    expect((await decide('provide_service', 'user.contact.email')).allow).toBe(true);
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'restrict', params: {}, verification: {} });
    expect(r.status).toBe('completed');
    expect(await decide('provide_service', 'user.contact.email')).toMatchObject({ allow: false, reason: 'SUBJECT_RESTRICTED' });
    expect(await decide('process_orders', 'user.behavior.purchase_history')).toMatchObject({ allow: false, reason: 'SUBJECT_RESTRICTED' });
    expect(await decide('legal_obligation', 'user.behavior.purchase_history')).toMatchObject({ allow: true });
    await rights().file(userCtx(subject), { subjectId: subject, type: 'restrict', params: { lift: true }, verification: {} });
    expect((await decide('provide_service', 'user.contact.email')).allow).toBe(true);
  });

  it('R-DSR-2: an objection withdraws every consent the person gave, in the consent ledger', async () => {
    const subject = randomUUID();
    const { consents } = stack.services.consent;
    for (const purpose of ['marketing_messages', 'surveys']) {
      await consents.set(stack.services.engine.db, userCtx(subject), { subjectId: subject, purpose, granted: true, source: 'app', collectionMethod: 'toggle', gpc: false, confirmOverrideGpc: false });
    }
    expect((await consents.list(stack.services.engine.db, subject)).filter((c) => c.granted)).toHaveLength(2);
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'object', params: {}, verification: {} });
    expect(r.status).toBe('completed');
    const after = await consents.list(stack.services.engine.db, subject);
    expect(after.filter((c) => c.granted)).toHaveLength(0);
    expect(after.find((c) => c.purpose === 'marketing_messages')?.status).toBe('withdrawn');
  });
  it('R-DSR-4: more open requests than the limit are declined EXCESSIVE; a correction the owning module refuses is closed, not left open', async () => {
    const subject = randomUUID();
    const { db } = stack.services.engine;
    const at = new Date().toISOString();
    for (let i = 0; i < 10; i++) {
      await db.insertInto('rights_requests').values({
        id: randomUUID(), subject_id: subject, type: 'erase_partial', status: 'in_progress', received_at: at, due_at: at, extended_ms: 0, verification_method: 'session_step_up',
        filed_by: `user:${subject}`, params: '{}', decline_reason: null, override_justification: null, completed_at: null, export_file: null, export_expires_at: null, updated_at: at,
      }).execute();
    }
    const r = await rights().file(userCtx(subject), { subjectId: subject, type: 'access', params: {}, verification: {} });
    expect(r.declineReason).toBe('EXCESSIVE');
    const other = randomUUID();
    await expect(rights().file(userCtx(other), { subjectId: other, type: 'rectify', params: { fields: ['accounts.email'] }, verification: fresh(), corrections: { 'accounts.email': 'not-an-address' } })).rejects.toBeTruthy();
    const [closed] = await rights().list(other);
    expect(closed).toMatchObject({ status: 'declined', declineReason: 'UNREALISTIC' });
  });
});
