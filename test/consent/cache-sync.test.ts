import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';

const ctx = systemContext('test');
const PG = ENGINES.includes('postgres');

/** Two instances on one PostgreSQL schema: a change through one is seen by the other's warm cache within a second. */
describe.skipIf(!PG)('decision cache coherence across instances (postgres, LISTEN/NOTIFY)', () => {
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    a = await createStack('postgres');
    b = await createStack('postgres', { schema: a.schema!, dataDir: a.config.dataDir }); // one key ring for both, as in production
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const waitFor = async (check: () => boolean, ms: number): Promise<number> => {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (check()) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not seen within ${ms} ms`);
  };

  it('R-USE-5: a withdrawal through instance A denies on instance B within one second', async () => {
    const s = randomUUID();
    const input = { subjectId: s, purpose: 'personalised_ads', category: 'user.contact.email' };
    await a.services.consent.consents.set(a.services.engine.db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'web', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    const bEngine = b.services.consent.decisions;
    expect((await bEngine.decide(input)).allow).toBe(true);
    // A's NOTIFY for the opt-in may land during B's first load (which then is not cached): warm B's cache.
    for (let i = 0; i < 50 && bEngine.decideCached(input) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await bEngine.decide(input);
    }
    expect(bEngine.decideCached(input)?.allow).toBe(true);
    await a.services.consent.consents.set(a.services.engine.db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: false, source: 'web', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    await waitFor(() => bEngine.decideCached(input) === undefined, 1000);
    expect(await bEngine.decide(input)).toMatchObject({ allow: false, reason: 'CONSENT_WITHDRAWN' });
  });

  it('R-KID-2: a child flag set in A inside a caller transaction reaches B at commit, not before', async () => {
    const s = randomUUID();
    const input = { subjectId: s, purpose: 'user_experience_program', category: 'user.telemetry' };
    const db = a.services.engine.db;
    await a.services.consent.consents.set(db, ctx, { subjectId: s, purpose: 'user_experience_program', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    const bEngine = b.services.consent.decisions;
    expect((await bEngine.decide(input)).allow).toBe(true);
    for (let i = 0; i < 50 && bEngine.decideCached(input) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await bEngine.decide(input);
    }
    // Warm before the transaction, or the check inside it would test nothing.
    expect(bEngine.decideCached(input)?.allow).toBe(true);
    await db.transaction().execute(async (trx) => {
      await a.services.consent.subjectStatus.markChild(trx, ctx, s, true);
      await new Promise((r) => setTimeout(r, 150));
      // Not committed yet: B still holds (and may use) the committed state.
      expect(bEngine.decideCached(input)?.allow).toBe(true);
    });
    await waitFor(() => bEngine.decideCached(input) === undefined, 1000);
    expect((await bEngine.decide(input)).reason).toBe('SUBJECT_IS_CHILD');
    expect((await a.services.consent.decisions.decide(input)).reason).toBe('SUBJECT_IS_CHILD');
  });
});

/** SQLite has no NOTIFY: processes on one file poll `decision_changes` (e.g. the CLI erasing beside the server). */
describe('decision cache coherence across instances (sqlite, one file)', () => {
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    a = await createStack('sqlite');
    b = await createStack('sqlite', { dataDir: a.config.dataDir });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('R-USE-1: an erasure recorded by another instance on the same file denies in this one within a second', async () => {
    const s = randomUUID();
    const input = { subjectId: s, purpose: 'provide_service', category: 'user.name' };
    const bEngine = b.services.consent.decisions;
    expect((await bEngine.decide(input)).allow).toBe(true);
    expect(bEngine.decideCached(input)?.allow).toBe(true);
    await a.services.consent.subjectStatus.markErased(a.services.engine.db, ctx, s);
    const started = Date.now();
    while (bEngine.decideCached(input) !== undefined && Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 10));
    expect(bEngine.decideCached(input)).toBeUndefined();
    expect((await bEngine.decide(input)).reason).toBe('SUBJECT_ERASED');
  });
});
