import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type TestStack } from '../support/engines.js';
import { makePerson, userCtx } from './person.js';

// SQLite only: the key file and its WAL are files of this data directory (PostgreSQL keeps dead tuples until VACUUM,
// see docs/ARCHITECTURE.md).
describe('account erasure leaves no destroyed key in the SQLite key file or its WAL', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack('sqlite');
  });
  afterAll(async () => stack.close());

  const keyFiles = () => {
    const dir = stack.config.dataDir;
    return Buffer.concat(fs.readdirSync(dir).filter((f) => /^keys\.db(-wal)?$/.test(f)).map((f) => fs.readFileSync(path.join(dir, f))));
  };

  for (const shares of [0, 2]) {
    it(`R-DSR-7: after erasing a person with ${shares} shared contact(s), none of their wrapped keys is left on disk`, async () => {
      const person = await makePerson(stack, 0);
      const { vault, engine, contacts } = stack.services;
      const ids = [person.id];
      for (let i = 0; i < shares; i++) ids.push((await contacts.share(userCtx(person.id), { name: `Guest ${i}`, email: `guest.${i}.${person.id.slice(0, 8)}@example.org`, reason: 'share' })).id);
      const wrapped = await Promise.all(ids.map(async (id) => (await vault.keyStore.findKey(engine.db, id))!.wrapped_dek!));
      // The scan sees them before: the keys are on disk (file or WAL) once their transactions committed.
      const before = keyFiles();
      expect(wrapped.filter((w) => before.includes(w))).toHaveLength(wrapped.length);
      const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: { stepUpAt: new Date().toISOString() } });
      expect(r.status).toBe('completed');
      // Anything queued behind the erasure on SQLite's one connection has run once a later statement has.
      await engine.db.selectFrom('accounts').select('subject_id').limit(1).execute();
      const onDisk = keyFiles();
      expect(onDisk.length).toBeGreaterThan(0);
      expect(wrapped.filter((w) => onDisk.includes(w))).toEqual([]);
    });
  }
  it('R-DSR-7: a contact withdrawn by its sharer leaves no wrapped key on disk (the shred inside its transaction queues the compaction)', async () => {
    const person = await makePerson(stack, 0);
    const { vault, engine, contacts } = stack.services;
    const shared = await contacts.share(userCtx(person.id), { name: 'Withdrawn Guest', email: `withdrawn.${person.id.slice(0, 8)}@example.org`, reason: 'share' });
    const wrapped = (await vault.keyStore.findKey(engine.db, shared.id))!.wrapped_dek!;
    expect(keyFiles().includes(wrapped)).toBe(true);
    await contacts.remove(userCtx(person.id), shared.id);
    await engine.db.selectFrom('accounts').select('subject_id').limit(1).execute();
    expect(keyFiles().includes(wrapped)).toBe(false);
  });
});
