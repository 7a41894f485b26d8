import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';

describe.each(ENGINES)('audit chain on %s', (kind) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await createStack(kind);
    const { audit, engine } = stack.services;
    for (let i = 0; i < 5; i++) {
      await audit.append(engine.db, systemContext('test'), { action: 'test.event', subjectId: `s${i}`, target: `thing:${i}`, details: { n: i } });
    }
  });
  afterEach(async () => stack.close());

  // Tampering is done as an attacker with direct database access would: first switching off the guards.
  async function tamper(statements: string[]): Promise<void> {
    const db = stack.services.engine.db;
    if (kind === 'postgres') {
      await sql.raw('ALTER TABLE audit_log DISABLE TRIGGER USER').execute(db);
      for (const s of statements) await sql.raw(s).execute(db);
      await sql.raw('ALTER TABLE audit_log ENABLE TRIGGER USER').execute(db);
    } else {
      await sql.raw('DROP TRIGGER audit_log_no_update').execute(db);
      await sql.raw('DROP TRIGGER audit_log_no_delete').execute(db);
      for (const s of statements) await sql.raw(s).execute(db);
    }
  }

  it('R-SEC-6: an intact chain verifies, and each entry records the policy version and hash', async () => {
    const { audit, engine, policy } = stack.services;
    const result = await audit.verify(engine.db);
    expect(result).toMatchObject({ ok: true, entries: 5 });
    const rows = await engine.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    expect(rows[0]).toMatchObject({ policy_version: policy.version, policy_hash: policy.hash, actor: 'system:test', prev_hash: '0'.repeat(64) });
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
  });

  it('R-SEC-6: the engine itself refuses UPDATE and DELETE on the audit log', async () => {
    const db = stack.services.engine.db;
    await expect(sql.raw(`UPDATE audit_log SET action = 'x' WHERE seq = 2`).execute(db)).rejects.toThrow(/append-only/);
    await expect(sql.raw('DELETE FROM audit_log WHERE seq = 2').execute(db)).rejects.toThrow(/append-only/);
  });

  it('R-SEC-6: an edited entry is detected', async () => {
    await tamper([`UPDATE audit_log SET target = 'thing:99' WHERE seq = 3`]);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result).toMatchObject({ ok: false, entries: 2, firstBreak: { kind: 'hash_mismatch', seq: 3 } });
  });

  it('R-SEC-6: an edit that also recomputes nothing else (hash copied from another row) is detected', async () => {
    await tamper([`UPDATE audit_log SET hash = (SELECT hash FROM audit_log WHERE seq = 4) WHERE seq = 3`]);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result.ok).toBe(false);
    expect(result.firstBreak?.seq).toBe(3);
  });

  it('R-SEC-6: a deleted entry is detected', async () => {
    await tamper(['DELETE FROM audit_log WHERE seq = 2']);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result).toMatchObject({ ok: false, entries: 1, firstBreak: { kind: 'sequence_gap', seq: 3, expected: 2 } });
  });

  it('R-SEC-6: a deleted last entry is detected through the head', async () => {
    await tamper(['DELETE FROM audit_log WHERE seq = 5']);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result).toMatchObject({ ok: false, firstBreak: { kind: 'head_mismatch' } });
  });

  it('R-SEC-6: an inserted entry is detected', async () => {
    await tamper([
      'UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3',
      `INSERT INTO audit_log (seq, at, actor, action, subject_id, purpose, target, details, policy_version, policy_hash, prev_hash, hash)
         SELECT 3, at, actor, 'forged', subject_id, purpose, target, details, policy_version, policy_hash, hash, hash FROM audit_log WHERE seq = 2`,
      'UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103',
    ]);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result).toMatchObject({ ok: false, entries: 2, firstBreak: { seq: 3 } });
  });

  it('R-SEC-6: reordered entries are detected', async () => {
    await tamper(['UPDATE audit_log SET seq = 100 WHERE seq = 2', 'UPDATE audit_log SET seq = 2 WHERE seq = 3', 'UPDATE audit_log SET seq = 3 WHERE seq = 100']);
    const result = await stack.services.audit.verify(stack.services.engine.db);
    expect(result).toMatchObject({ ok: false, entries: 1, firstBreak: { kind: 'prev_mismatch', seq: 2 } });
  });

  it('R-SEC-6: concurrent appends keep one unbroken chain', async () => {
    const { audit, engine } = stack.services;
    await Promise.all(Array.from({ length: 40 }, (_, i) => audit.append(engine.db, systemContext('race'), { action: 'race', details: { i } })));
    expect(await audit.verify(engine.db)).toMatchObject({ ok: true, entries: 45 });
  });

  it('refuses a personal value in audit details', async () => {
    const { audit, engine } = stack.services;
    await expect(audit.append(engine.db, systemContext('test'), { action: 'oops', details: { who: 'jane@example.com' } })).rejects.toThrow(/personal value/);
  });

  it('an audit entry is written in the same transaction as the change: a rollback removes both', async () => {
    const { audit, engine } = stack.services;
    await expect(
      engine.db.transaction().execute(async (trx) => {
        await audit.append(trx, systemContext('test'), { action: 'doomed' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const verify = await audit.verify(engine.db);
    expect(verify).toMatchObject({ ok: true, entries: 5 });
  });
});
