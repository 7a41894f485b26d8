import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import { makePerson, moduleServices, userCtx, type Person } from './person.js';

const fresh = () => ({ stepUpAt: new Date().toISOString() });

async function chainState(stack: TestStack): Promise<string> {
  const v = await stack.services.audit.verify(stack.services.engine.db);
  return v.ok ? 'intact' : v.message;
}

/** Everything an account erasure must leave behind, with ids replaced by what they stand for. */
async function endState(stack: TestStack, person: Person, requestId: string) {
  const { db } = stack.services.engine;
  stack.services.vault.forgetKeys();
  const holds = await db.selectFrom('rights_legal_holds').selectAll().where('subject_id', '=', person.id).orderBy('record_id').execute();
  const holdSubjects = [...new Set(holds.map((h) => h.hold_subject_id))];
  const held = holdSubjects.length ? await db.selectFrom('orders').select(['id', 'credit_check']).where('subject_id', 'in', holdSubjects).execute() : [];
  const count = async (table: 'accounts' | 'sessions' | 'orders') => (await db.selectFrom(table).select('subject_id').where('subject_id', '=', person.id).execute()).length;
  const auditActions = (await db.selectFrom('audit_log').select('action').where('subject_id', '=', person.id).execute()).map((a) => a.action);
  const request = await stack.services.rights.requests.get(requestId);
  return {
    status: request.status,
    steps: (await db.selectFrom('erasure_steps').select('step').where('request_id', '=', requestId).execute()).map((s) => s.step).sort(),
    accounts: await count('accounts'),
    sessions: await count('sessions'),
    personOrders: await count('orders'),
    holdSubjects: holdSubjects.length,
    heldRecords: holds.map((h) => `${h.record_type}:${person.orderIds.indexOf(h.record_id)}:${h.reason}`).sort(),
    heldOrdersKeepNoCreditCheck: held.every((o) => o.credit_check === null) && held.length === holds.length,
    personShredded: await stack.services.vault.isShredded(db, person.id),
    holdKeysAlive: (await Promise.all(holdSubjects.map((h) => stack.services.vault.isShredded(db, h)))).every((x) => !x),
    heldAudited: auditActions.filter((a) => a === 'rights.record_held').length,
    shredAudited: auditActions.filter((a) => a === 'vault.subject_shredded').length,
    chain: await chainState(stack),
  };
}

describe.each(ENGINES)('account erasure on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-DSR-2: orders under legal hold are kept under a hold key, listed with reason and end date; the rest is shredded and purged; the e-mail is free again', async () => {
    const person = await makePerson(stack, 3);
    const jwe = `${Buffer.from(JSON.stringify({ alg: 'ECDH-ES', enc: 'A256GCM' })).toString('base64url')}..aXY.Y2lwaGVy.dGFn`;
    await stack.services.sealed.put(userCtx(person.id), 'diary', jwe);
    const exported = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'export', params: {}, verification: fresh() });
    const exportFiles = () => fs.readdirSync(path.join(stack.config.dataDir, 'exports')).filter((f) => f.startsWith(exported.id));
    expect(exportFiles()).toHaveLength(2);
    const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: fresh() });
    expect(r.status).toBe('completed');
    expect(await stack.services.engine.db.selectFrom('sealed_values').select('name').where('subject_id', '=', person.id).execute()).toEqual([]);
    // Export files are plaintext outside the vault: erasure deletes them at once, not after the link expires.
    expect(exportFiles()).toHaveLength(0);
    const state = await endState(stack, person, r.id);
    expect(state).toEqual({
      status: 'completed', steps: ['contacts', 'exports', 'hold', 'purge', 'sessions', 'shred'], accounts: 0, sessions: 0, personOrders: 0, holdSubjects: 1,
      heldRecords: expect.arrayContaining(['order:1:tax_law_invoice_retention', 'order:2:tax_law_invoice_retention']), heldOrdersKeepNoCreditCheck: true,
      personShredded: true, holdKeysAlive: true, heldAudited: 2, shredAudited: 1, chain: 'intact',
    });
    expect(state.heldRecords).toHaveLength(2);
    // The held invoice still opens for the legal obligation, under the hold key.
    const { orders, accounts } = moduleServices(stack);
    const items = await orders.readField(userCtx('tax-office'), person.orderIds[1]!, 'items', 'legal_obligation');
    expect(items).toContain('Air purifier');
    // The person's own data no longer decrypts; the same e-mail and phone can open a new account.
    await expect(accounts.profile(stack.services.engine.db, person.id, 'subject_rights')).rejects.toMatchObject({ code: expect.stringMatching(/NOT_FOUND|SUBJECT_ERASED/) });
    const again = await accounts.signUp(userCtx('anonymous'), {
      name: 'Erin Again', email: person.email, phone: person.phone, postalAddress: { line1: '2 Side St', city: 'Berlin', postalCode: '10115', country: 'DE' },
      birthDate: '1990-04-02', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password: 'another long passphrase',
    });
    expect(again).not.toBe(person.id);
    // The audit keeps the request and the fact of erasure, never the values.
    const details = (await stack.services.engine.db.selectFrom('audit_log').select('details').execute()).map((d) => d.details).join('\n');
    expect(details).not.toContain(person.email);
    expect(details).not.toContain('Erin');
  });

  it('R-DSR-2, R-ACC-3: the contacts a person shared are shredded and removed with their account, each audited; another person\'s contact stays', async () => {
    const sharer = await makePerson(stack, 0);
    const bystander = await makePerson(stack, 0);
    const { contacts, vault, engine, audit } = stack.services;
    const share = (id: string, name: string) => contacts.share(userCtx(id), { name, email: `${name.toLowerCase()}.${id.slice(0, 8)}@example.org`, reason: 'share' });
    const mine = [await share(sharer.id, 'Gus'), await share(sharer.id, 'Hana')];
    const theirs = await share(bystander.id, 'Ines');
    const r = await stack.services.rights.requests.file(userCtx(sharer.id), { subjectId: sharer.id, type: 'erase_account', params: {}, verification: fresh() });
    expect(r.status).toBe('completed');
    for (const c of mine) {
      expect(await vault.isShredded(engine.db, c.id)).toBe(true);
      expect(await engine.db.selectFrom('contacts').select('subject_id').where('subject_id', '=', c.id).executeTakeFirst()).toBeUndefined();
      expect((await engine.db.selectFrom('audit_log').select('action').where('subject_id', '=', c.id).execute()).map((a) => a.action)).toContain('contacts.erased_with_sharer');
    }
    expect(await vault.isShredded(engine.db, theirs.id)).toBe(false);
    expect((await contacts.list(userCtx(bystander.id))).map((c) => c.id)).toEqual([theirs.id]);
    expect((await audit.verify(engine.db)).ok).toBe(true);
  });

  it('R-DSR-7: erasure killed with SIGKILL after every step but the last finishes on a re-run, with the same end state as an uninterrupted one', async () => {
    const reference = await makePerson(stack, 3);
    const ref = await stack.services.rights.requests.file(userCtx(reference.id), { subjectId: reference.id, type: 'erase_account', params: {}, verification: fresh() });
    const expected = await endState(stack, reference, ref.id);

    const person = await makePerson(stack, 3);
    // Interrupted in-process after step 1 (holds done), then killed by SIGKILL in child processes after each later
    // step but the last: 2 (shred), 3 (exports), 4 (sessions), 5 (contacts); the last run does the purge.
    stack.services.rights.doer.onErasureStep = (i) => {
      if (i === 1) throw new Error('power cut');
    };
    await expect(stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: fresh() })).rejects.toThrow('power cut');
    stack.services.rights.doer.onErasureStep = undefined;
    const [request] = await stack.services.rights.requests.list(person.id);
    for (const k of [2, 3, 4, 5]) {
      const out = runCli(['rights', 'run', '--request', request!.id], { ...stack.env, PLEDGE_TEST_KILL_AFTER_STEP: String(k) });
      expect(out.signal, out.stderr).toBe('SIGKILL');
      const steps = await stack.services.engine.db.selectFrom('erasure_steps').select('step').where('request_id', '=', request!.id).execute();
      expect(steps).toHaveLength(k);
    }
    const out = runCli(['rights', 'run'], stack.env);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`${request!.id} erase_account completed`);
    expect(await endState(stack, person, request!.id)).toEqual(expected);
    // Idempotent: nothing is left to finish, and running the erasure once more changes nothing.
    expect(await stack.services.rights.requests.unfinished()).toEqual([]);
    await stack.services.rights.doer.run(userCtx(person.id), await stack.services.rights.requests.get(request!.id), undefined);
    expect(await endState(stack, person, request!.id)).toEqual(expected);
    // Five child processes (each a cold tsx start): ~30 s on a quiet machine; the margin is for a loaded one,
    // where a timed-out test would have its schema dropped under the still-running child.
  }, 240_000);
});
