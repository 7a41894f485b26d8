import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { DecisionEngine } from '../../src/modules/consent/decision.engine.js';
import type { DecisionInput } from '../../src/modules/consent/decision.js';
import type { Database } from '../../src/internal/db/database.js';

const ctx = systemContext('test');

describe.each(ENGINES)('decision engine on %s', (kind) => {
  let stack: TestStack;
  let engine: DecisionEngine;
  const db = () => stack.services.engine.db;
  const c = () => stack.services.consent;
  const decide = (subjectId: string, purpose: string, category: string, aggregate?: boolean) =>
    engine.decide({ subjectId, purpose, category, ...(aggregate === undefined ? {} : { aggregate }) });
  const give = (subjectId: string, purpose: string, at?: Date) =>
    c().consents.change(db(), ctx, { subjectId, changes: [{ purpose, status: 'given' }], source: 'app', collectionMethod: 'test', ...(at ? { at } : {}) });

  beforeAll(async () => {
    stack = await createStack(kind);
    engine = stack.services.consent.decisions;
  });
  afterAll(async () => stack.close());

  it('R-USE-2: service, orders, identity, security and fraud need no opt-in (ALLOWED_CONTRACT, ALLOWED_LEGITIMATE_INTEREST, ALLOWED_LEGAL_OBLIGATION)', async () => {
    const s = randomUUID();
    expect(await decide(s, 'provide_service', 'user.contact.email')).toMatchObject({ allow: true, reason: 'ALLOWED_CONTRACT', legalBasis: 'contract', policyVersion: stack.services.policy.version });
    expect(await decide(s, 'process_orders', 'user.financial.credit_card')).toMatchObject({ allow: true, reason: 'ALLOWED_CONTRACT' });
    expect(await decide(s, 'verify_identity', 'user.authorization.credentials')).toMatchObject({ allow: true, reason: 'ALLOWED_CONTRACT' });
    expect(await decide(s, 'security_fraud', 'user.device.ip_address')).toMatchObject({ allow: true, reason: 'ALLOWED_LEGITIMATE_INTEREST', legalBasis: 'legitimate_interest' });
    expect(await decide(s, 'legal_obligation', 'user.behavior.purchase_history')).toMatchObject({ allow: true, reason: 'ALLOWED_LEGAL_OBLIGATION' });
  });

  it('R-USE-1: an undeclared purpose is denied PURPOSE_UNDECLARED; a category the purpose does not list is CATEGORY_NOT_ALLOWED_FOR_PURPOSE', async () => {
    const s = randomUUID();
    expect(await decide(s, 'sell_to_brokers', 'user.contact.email')).toEqual({ allow: false, reason: 'PURPOSE_UNDECLARED', legalBasis: null, policyVersion: stack.services.policy.version });
    expect(await decide(s, 'provide_service', 'user.financial.bank_account')).toMatchObject({ allow: false, reason: 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE' });
  });

  it('R-USE-1: every consent purpose starts denied (CONSENT_MISSING), a refusal too', async () => {
    const s = randomUUID();
    for (const purpose of stack.services.policy.consentPurposes) {
      const category = [...stack.services.policy.purposes.get(purpose)!.categories][0]!;
      expect(await decide(s, purpose, category), purpose).toMatchObject({ allow: false, reason: 'CONSENT_MISSING' });
    }
    await c().consents.set(db(), ctx, { subjectId: s, purpose: 'promotions', granted: false, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(await decide(s, 'promotions', 'user.name')).toMatchObject({ allow: false, reason: 'CONSENT_MISSING' });
  });

  it('R-USE-5: personalised advertising needs the opt-in; withdrawing stops use at the very next decision (CONSENT_WITHDRAWN)', async () => {
    const s = randomUUID();
    const input: DecisionInput = { subjectId: s, purpose: 'personalised_ads', category: 'user.behavior.purchase_history' };
    expect((await engine.decide(input)).reason).toBe('CONSENT_MISSING');
    const given = await c().consents.set(db(), ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(given.state).toMatchObject({ status: 'given', granted: true });
    expect(await engine.decide(input)).toMatchObject({ allow: true, reason: 'ALLOWED_CONSENT', legalBasis: 'consent' });
    // The cache is warm now: the synchronous path answers (on PostgreSQL our own NOTIFY may drop it once more).
    for (let i = 0; i < 50 && engine.decideCached(input) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await engine.decide(input);
    }
    expect(engine.decideCached(input)?.reason).toBe('ALLOWED_CONSENT');
    const withdrawn = await c().consents.set(db(), ctx, { subjectId: s, purpose: 'personalised_ads', granted: false, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(withdrawn.state.status).toBe('withdrawn');
    expect(engine.decideCached(input)).toBeUndefined();
    expect(await engine.decide(input)).toMatchObject({ allow: false, reason: 'CONSENT_WITHDRAWN' });
  });

  it('R-CHO-2: the User Experience Program is one toggle, effective on the next decision', async () => {
    const s = randomUUID();
    const input = { subjectId: s, purpose: 'user_experience_program', category: 'user.telemetry' };
    await c().consents.set(db(), ctx, { subjectId: s, purpose: 'user_experience_program', granted: true, source: 'device', collectionMethod: 'settings_switch', gpc: false, confirmOverrideGpc: false });
    expect((await engine.decide(input)).allow).toBe(true);
    await c().consents.set(db(), ctx, { subjectId: s, purpose: 'user_experience_program', granted: false, source: 'device', collectionMethod: 'settings_switch', gpc: false, confirmOverrideGpc: false });
    expect((await engine.decide(input)).reason).toBe('CONSENT_WITHDRAWN');
  });

  it('R-USE-5: CONSENT_EXPIRED: a consent older than the purpose expiry denies; the sweeper appends an expired event', async () => {
    const s = randomUUID();
    const thirteenMonthsAgo = new Date(Date.now() - 400 * 86_400_000);
    await give(s, 'personalised_ads', thirteenMonthsAgo);
    await give(s, 'marketing_messages', new Date(thirteenMonthsAgo.getTime() + 1000)); // no expiry in the policy
    expect(await decide(s, 'personalised_ads', 'user.contact.email')).toMatchObject({ allow: false, reason: 'CONSENT_EXPIRED' });
    expect((await decide(s, 'marketing_messages', 'user.contact.email')).reason).toBe('ALLOWED_CONSENT');
    expect((await c().consents.list(db(), s)).find((x) => x.purpose === 'personalised_ads')).toMatchObject({ status: 'expired', granted: false });
    expect(await c().consents.expireDue(db(), ctx)).toBeGreaterThanOrEqual(1);
    const history = await c().consents.history(db(), s);
    expect(history.map((e) => `${e.purpose}:${e.status}`)).toEqual(['personalised_ads:given', 'marketing_messages:given', 'personalised_ads:expired']);
    expect((await decide(s, 'personalised_ads', 'user.contact.email')).reason).toBe('CONSENT_EXPIRED');
  });

  it('R-USE-3: product improvement reads aggregates only (AGGREGATES_ONLY for rows of a subject)', async () => {
    const s = randomUUID();
    expect(await decide(s, 'product_analysis', 'user.device.model')).toMatchObject({ allow: false, reason: 'AGGREGATES_ONLY' });
    expect(await decide(s, 'product_analysis', 'user.device.model', true)).toMatchObject({ allow: true, reason: 'ALLOWED_LEGITIMATE_INTEREST' });
  });

  it('R-USE-7: device identifiers only for warranty, licences, surveys, product analysis, crash diagnostics and rights requests', async () => {
    const s = randomUUID();
    await give(s, 'surveys');
    const allowedFor: string[] = [];
    for (const purpose of stack.services.policy.purposes.keys()) {
      const d = await decide(s, purpose, 'user.device.device_id', true);
      if (d.reason !== 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE') allowedFor.push(purpose);
    }
    expect(allowedFor.sort()).toEqual(['crash_diagnostics', 'product_analysis', 'software_licence', 'subject_rights', 'surveys', 'warranty']);
    expect(await decide(s, 'personalised_ads', 'user.device.device_id')).toMatchObject({ allow: false, reason: 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE' });
    expect((await decide(s, 'warranty', 'user.device.imei')).allow).toBe(true);
    // "never to track location": no purpose that may read device ids may read precise location, except answering the person's own request.
    for (const purpose of allowedFor.filter((p) => p !== 'subject_rights')) {
      expect((await decide(s, purpose, 'user.location.precise', true)).reason, purpose).toBe('CATEGORY_NOT_ALLOWED_FOR_PURPOSE');
    }
  });

  it('R-KID-2: a child account is never used for telemetry, advertising, promotions or marketing, whatever consents are on record (SUBJECT_IS_CHILD)', async () => {
    const s = randomUUID();
    for (const p of ['user_experience_program', 'personalised_ads', 'promotions', 'marketing_messages', 'cookies_marketing', 'email_open_tracking']) await give(s, p);
    expect((await decide(s, 'personalised_ads', 'user.contact.email')).allow).toBe(true);
    await c().subjectStatus.markChild(db(), ctx, s, true);
    expect(await decide(s, 'user_experience_program', 'user.telemetry')).toMatchObject({ allow: false, reason: 'SUBJECT_IS_CHILD' });
    expect((await decide(s, 'personalised_ads', 'user.contact.email')).reason).toBe('SUBJECT_IS_CHILD');
    expect((await decide(s, 'promotions', 'user.content.promotion_entry')).reason).toBe('SUBJECT_IS_CHILD');
    expect((await decide(s, 'marketing_messages', 'user.contact.email')).reason).toBe('SUBJECT_IS_CHILD');
    expect((await decide(s, 'cookies_marketing', 'user.device.cookie_id')).reason).toBe('SUBJECT_IS_CHILD');
    // Crash reports are telemetry too: no purpose, consent-based or not, reads a child's crash data or device ids for diagnostics.
    expect((await decide(s, 'crash_diagnostics', 'user.telemetry.crash')).reason).toBe('SUBJECT_IS_CHILD');
    expect((await decide(s, 'crash_diagnostics', 'user.device.device_id')).reason).toBe('SUBJECT_IS_CHILD');
    expect((await decide(s, 'provide_service', 'user.contact.email')).reason).toBe('ALLOWED_CONTRACT');
    expect((await c().subjectStatus.get(db(), s)).isChild).toBe(true);
  });

  it('R-DSR-2: SUBJECT_RESTRICTED: a restricted subject is used only for legal obligations, and is released again', async () => {
    const s = randomUUID();
    expect((await decide(s, 'provide_service', 'user.name')).allow).toBe(true);
    await c().subjectStatus.setRestricted(db(), ctx, s, true, 'dsr_restrict');
    expect(await decide(s, 'provide_service', 'user.name')).toMatchObject({ allow: false, reason: 'SUBJECT_RESTRICTED' });
    expect(await decide(s, 'legal_obligation', 'user.name')).toMatchObject({ allow: true, reason: 'ALLOWED_LEGAL_OBLIGATION' });
    expect(await decide(s, 'subject_rights', 'user.name')).toMatchObject({ allow: true, reason: 'ALLOWED_LEGAL_OBLIGATION' });
    await c().subjectStatus.setRestricted(db(), ctx, s, false, 'dsr_restrict_lifted');
    expect((await decide(s, 'provide_service', 'user.name')).allow).toBe(true);
    const actions = (await db().selectFrom('audit_log').select('action').where('subject_id', '=', s).orderBy('seq').execute()).map((a) => a.action);
    expect(actions).toEqual(['subject.restricted', 'subject.unrestricted']);
  });

  it('R-DSR-2, R-DSR-7: SUBJECT_ERASED: an erased subject is denied for every purpose; the change made inside a caller transaction counts after commit', async () => {
    const s = randomUUID();
    expect((await decide(s, 'provide_service', 'user.name')).allow).toBe(true);
    await db().transaction().execute((trx) => c().subjectStatus.markErased(trx, ctx, s));
    expect(await decide(s, 'provide_service', 'user.name')).toMatchObject({ allow: false, reason: 'SUBJECT_ERASED' });
    expect((await decide(s, 'legal_obligation', 'user.name')).reason).toBe('SUBJECT_ERASED');
  });

  it('R-USE-1: DECISION_ERROR: an error inside the engine denies; nothing is allowed by default', async () => {
    const sqlite = new SQLite(':memory:');
    const broken = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const e = new DecisionEngine({ kind: 'sqlite', db: broken, close: () => broken.destroy() }, stack.services.policy);
    // No tables in this store: the load fails.
    expect(await e.decide({ subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' })).toMatchObject({ allow: false, reason: 'DECISION_ERROR', legalBasis: null });
    expect(await e.decideMany([{ subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' }])).toMatchObject([{ allow: false, reason: 'DECISION_ERROR' }]);
    await broken.destroy();
  });

  it('R-USE-5, R-CHO-2: the ledger is append-only: the store refuses to rewrite history; each change is audited', async () => {
    const s = randomUUID();
    await give(s, 'promotions');
    await expect(sql`UPDATE consent_events SET status = 'refused' WHERE subject_id = ${s}`.execute(db())).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM consent_events WHERE subject_id = ${s}`.execute(db())).rejects.toThrow(/append-only/);
    const audit = await db().selectFrom('audit_log').selectAll().where('subject_id', '=', s).execute();
    expect(audit.map((a) => a.action)).toEqual(['consent.changed']);
    expect(audit[0]!.details).toContain('promotions');
    const [event] = await c().consents.history(db(), s);
    expect(event).toMatchObject({ status: 'given', source: 'app', policy_version: stack.services.policy.version, policy_hash: stack.services.policy.hash });
  });

  it('R-USE-1: a purpose that needs no consent cannot be given or withdrawn; an unknown purpose is UNKNOWN_PURPOSE', async () => {
    const s = randomUUID();
    await expect(give(s, 'provide_service')).rejects.toMatchObject({ code: 'PURPOSE_NEEDS_NO_CONSENT' });
    await expect(give(s, 'nope')).rejects.toMatchObject({ code: 'UNKNOWN_PURPOSE' });
  });

  it('R-USE-1: the vault read path asks this engine: marketing reads of an e-mail need the consent, and stop at its withdrawal', async () => {
    const vault = stack.services.vault;
    const s = await vault.createSubject(db(), ctx, 'account');
    const sealed = await vault.encrypt(db(), s, 'accounts', 'email', 'someone@example.org');
    expect(await vault.decrypt(db(), s, 'accounts', 'email', sealed, 'provide_service')).toBe('someone@example.org');
    await expect(vault.decrypt(db(), s, 'accounts', 'email', sealed, 'marketing_messages')).rejects.toMatchObject({ code: 'PURPOSE_DENIED' });
    await give(s, 'marketing_messages');
    expect(await vault.decrypt(db(), s, 'accounts', 'email', sealed, 'marketing_messages')).toBe('someone@example.org');
    await c().consents.set(db(), ctx, { subjectId: s, purpose: 'marketing_messages', granted: false, source: 'web', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    await expect(vault.decrypt(db(), s, 'accounts', 'email', sealed, 'marketing_messages')).rejects.toMatchObject({ code: 'PURPOSE_DENIED' });
  });
});
