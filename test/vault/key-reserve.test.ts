import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStack, tmpDir, type TestStack } from '../support/engines.js';
import { bearer, newUser, person, signIn, signUp } from '../support/people.js';
import { systemContext } from '../../src/internal/context.js';
import { keyRows } from './support.js';

const ctx = systemContext('vault-key-reserve-test');
const DAY = 24 * 3_600_000;

// SQLite only: PostgreSQL commits a subject's key with its rows in one transaction and keeps no reserve.
describe('vault: keys committed ahead on sqlite (the key reserve)', () => {
  const stacks: TestStack[] = [];
  const open = async (dataDir: string) => {
    const s = await createStack('sqlite', { dataDir });
    stacks.push(s);
    return s;
  };
  afterEach(async () => {
    vi.useRealTimers();
    for (const s of stacks.splice(0)) await s.close();
  });
  const claimed = (s: TestStack, id: string) => s.services.engine.db.selectFrom('vault_claims').select('subject_id').where('subject_id', '=', id).executeTakeFirst();

  it('R-SEC-4: a sign-up takes a key already committed to the key file, writes no key itself, commits its claim with the account, and the account opens after a restart', async () => {
    const dataDir = tmpDir();
    const stack = await open(dataDir);
    const { vault, engine } = stack.services;
    await vault.reserve!.fill('account');
    const keysBefore = await keyRows(stack.services, 'all');
    const people = [person(), person(), person()];
    const ids = [];
    for (const p of people) ids.push(await signUp(stack, p));
    // Three of 128 taken: no refill yet, and the sign-ups themselves wrote no key.
    expect(await keyRows(stack.services, 'all')).toBe(keysBefore);
    for (const id of ids) {
      const key = await vault.keyStore.findKey(engine.db, id);
      expect(key?.reserved_at, 'a reserved key').toEqual(expect.any(String));
      expect(key!.reserved_at! <= (await engine.db.selectFrom('accounts').select('created_at').where('subject_id', '=', id).executeTakeFirstOrThrow()).created_at).toBe(true);
      expect(await claimed(stack, id)).toEqual({ subject_id: id });
    }
    await stack.close();
    stacks.splice(0);
    const again = await open(dataDir);
    for (const p of people) {
      const me = await again.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await signIn(again, p.email, p.password)) });
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json().name).toBe(p.name);
    }
  });

  it('R-SEC-4: a key taken by a transaction that rolled back stays unclaimed and is swept after a day; claimed keys and keys made outside the reserve stay, and sign-up goes on', async () => {
    const stack = await open(tmpDir());
    const { vault, engine, retention } = stack.services;
    await vault.reserve!.fill('account');
    let rolledBack = '';
    await expect(
      engine.db.transaction().execute(async (trx) => {
        rolledBack = await vault.createSubject(trx, ctx, 'account');
        throw new Error('the caller gave up');
      }),
    ).rejects.toThrow('the caller gave up');
    expect((await vault.keyStore.findKey(engine.db, rolledBack))?.reserved_at).toEqual(expect.any(String));
    expect(await claimed(stack, rolledBack)).toBeUndefined();
    const user = await newUser(stack);
    const [outside] = await engine.db.transaction().execute((trx) => vault.createSubjects(trx, ctx, 'account', 1));

    const unclaimed = (await keyRows(stack.services, 'reserved')) - 1;
    const sameDay = await retention.run({ now: new Date(Date.now() + 3_600_000) });
    expect(sameDay.steps.find((s) => s.name === 'vault.unclaimed_reserved_keys')).toMatchObject({ ok: true, removed: 0 });
    const report = await retention.run({ now: new Date(Date.now() + DAY + 3_600_000) });
    expect(report.steps.find((s) => s.name === 'vault.unclaimed_reserved_keys')).toMatchObject({ ok: true, removed: unclaimed });
    expect(await vault.keyStore.findKey(engine.db, rolledBack)).toBeUndefined();
    expect(await vault.keyStore.findKey(engine.db, user.id)).toBeDefined();
    expect(await vault.keyStore.findKey(engine.db, outside!)).toBeDefined();

    // The reserve still holds ids whose keys were swept (a clock that jumped): they are skipped, never used.
    expect(vault.reserve!.available('account')).toBeGreaterThan(0);
    const next = await newUser(stack);
    vault.forgetKeys();
    for (const u of [user, next]) {
      const me = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: u.auth });
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json().name).toBe(u.p.name);
    }
  });

  it('R-SEC-4: a reserved key older than an hour is not handed out', async () => {
    const stack = await open(tmpDir());
    const { vault, engine } = stack.services;
    await vault.reserve!.fill('account');
    const oldBatch = (await engine.db.withSchema(vault.keyStore.schema).selectFrom('vault_keys').select('reserved_at').where('reserved_at', 'is not', null).executeTakeFirstOrThrow()).reserved_at!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    const user = await newUser(stack);
    const key = await vault.keyStore.findKey(engine.db, user.id);
    expect(key?.reserved_at ?? null).not.toBe(oldBatch);
  });
});
