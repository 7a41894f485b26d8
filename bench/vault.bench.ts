import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { EngineKind } from '../src/internal/db/engine.js';
import { systemContext } from '../src/internal/context.js';
import { normaliseEmail, normalisePhone } from '../src/modules/vault/blind-index.js';
import type { Services } from '../src/start/services.js';
import { median, report } from './report.js';
import { withBenchServices } from './bench-stack.js';

const ROUNDS = 5;
const ROWS = 1000;
const LOOKUP_ROWS = 10_000;
const LOOKUPS = 2000;
const ctx = systemContext('bench');

// Phones must be unique across every row of a run (unique index), e-mails carry the tag.
let phoneSeq = 0;
const person = (tag: string, i: number) => ({
  name: `Bench Person ${tag} ${i}`,
  email: `bench.${tag}.${i}@example.org`,
  phone: `+4930${String(10_000_000 + phoneSeq++)}`,
  postal_address: `Hauptstrasse ${i}, 10115 Berlin`,
  birth_date: '1990-04-01',
  language: 'de',
  time_zone: 'Europe/Berlin',
});

async function createTables(s: Services): Promise<void> {
  const bytes = sql.raw(s.engine.kind === 'postgres' ? 'bytea' : 'blob');
  const cols = ['name', 'email', 'phone', 'postal_address', 'birth_date', 'language', 'time_zone'];
  // The same row both ways: plaintext with unique e-mail/phone, sealed with unique blind indexes.
  await sql.raw(`create table bench_plain (id text primary key, ${cols.map((c) => `${c} text`).join(', ')}, region text, unique (email), unique (phone))`).execute(s.engine.db);
  await sql.raw(`create table bench_plain_indexed (id text primary key, ${cols.map((c) => `${c} text`).join(', ')}, region text, email_index text unique, phone_index text unique)`).execute(s.engine.db);
  await sql`create table bench_sealed (subject_id text primary key, name ${bytes}, email ${bytes}, phone ${bytes}, postal_address ${bytes}, birth_date ${bytes}, language ${bytes}, time_zone ${bytes}, region text, email_index text unique, phone_index text unique)`.execute(s.engine.db);
}

// Both sides validate and normalise e-mail and phone as account creation does (a plaintext store needs the
// same normal forms for its unique columns), so the ratio measures what encryption costs, not validation.
function validPerson(tag: string, i: number): ReturnType<typeof person> {
  const p = person(tag, i);
  return { ...p, email: normaliseEmail(p.email), phone: normalisePhone(p.phone, 'DE') };
}

async function writePlain(s: Services, tag: string, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = validPerson(tag, i);
    await s.engine.db.transaction().execute((trx) => sql`insert into bench_plain values (${randomUUID()}, ${p.name}, ${p.email}, ${p.phone}, ${p.postal_address}, ${p.birth_date}, ${p.language}, ${p.time_zone}, 'DE')`.execute(trx));
  }
  return n / ((performance.now() - t0) / 1000);
}

// The plaintext row plus the two keyed blind indexes, no encryption: what the indexes alone cost (their keys are
// random, so each insert touches other B-tree pages than the plaintext's ordered e-mail and phone do).
async function writePlainIndexed(s: Services, tag: string, n: number, times?: number[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = validPerson(tag, i);
    const a = performance.now();
    const ei = s.vault.blindIndex('email', p.email);
    const pi = s.vault.blindIndex('phone', p.phone);
    await s.engine.db.transaction().execute((trx) => sql`insert into bench_plain_indexed values (${randomUUID()}, ${p.name}, ${p.email}, ${p.phone}, ${p.postal_address}, ${p.birth_date}, ${p.language}, ${p.time_zone}, 'DE', ${ei}, ${pi})`.execute(trx));
    times?.push(performance.now() - a);
  }
  return n / ((performance.now() - t0) / 1000);
}

async function writeSealed(s: Services, tag: string, n: number): Promise<number> {
  const { vault } = s;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = validPerson(tag, i);
    await s.engine.db.transaction().execute(async (trx) => {
      const id = await vault.createSubject(trx, ctx, 'account');
      const f = await vault.encryptFields(trx, id, 'accounts', p);
      const ei = vault.blindIndex('email', p.email);
      const pi = vault.blindIndex('phone', p.phone);
      await sql`insert into bench_sealed values (${id}, ${f.name}, ${f.email}, ${f.phone}, ${f.postal_address}, ${f.birth_date}, ${f.language}, ${f.time_zone}, 'DE', ${ei}, ${pi})`.execute(trx);
    });
  }
  return n / ((performance.now() - t0) / 1000);
}

// The same row through `createSubjectWith`: the key and the row go in one statement on PostgreSQL (a
// data-modifying CTE); on SQLite the same two statements as above. Same work, one round trip fewer.
async function writeSealedWith(s: Services, tag: string, n: number, times?: number[]): Promise<number> {
  const { vault } = s;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = validPerson(tag, i);
    const a = performance.now();
    await s.engine.db.transaction().execute((trx) =>
      vault.createSubjectWith(trx, ctx, 'account', async (id) => {
        const f = await vault.encryptFields(trx, id, 'accounts', p);
        const ei = vault.blindIndex('email', p.email);
        const pi = vault.blindIndex('phone', p.phone);
        return sql`insert into bench_sealed values (${id}, ${f.name}, ${f.email}, ${f.phone}, ${f.postal_address}, ${f.birth_date}, ${f.language}, ${f.time_zone}, 'DE', ${ei}, ${pi})`.compile(trx);
      }),
    );
    times?.push(performance.now() - a);
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Per-transaction latency: median, p99, and the share of all the time spent in the slowest 1 % (checkpoints, refills). */
function tail(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  const top = sorted.slice(Math.floor(sorted.length * 0.99)).reduce((a, b) => a + b, 0);
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
  return `median ${us(sorted[sorted.length >> 1]!)}, mean ${us(total / sorted.length)}, p99 ${us(sorted[Math.floor(sorted.length * 0.99)]!)}, slowest 1 % = ${Math.round((top / total) * 100)} % of the time`;
}

async function lookups(s: Services): Promise<{ p50: number; p99: number }> {
  // Both encrypted sides' rounds and warm-ups are already in the table; fill it up to LOOKUP_ROWS.
  const fill = LOOKUP_ROWS - 2 * ROUNDS * ROWS - 400;
  if (fill > 0) await writeSealed(s, 'fill', fill);
  const times: number[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const email = ` Bench.R${i % ROUNDS}.${(i * 7919) % ROWS}@Example.org`;
    const t0 = performance.now();
    const row = await sql<{ subject_id: string }>`select subject_id from bench_sealed where email_index = ${s.vault.blindIndex('email', email)}`.execute(s.engine.db);
    times.push(performance.now() - t0);
    if (row.rows.length !== 1) throw new Error('lookup missed');
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

async function benchEngine(kind: EngineKind): Promise<void> {
  const ran = await withBenchServices(kind, async (s) => {
    await createTables(s);
    await writePlain(s, 'warm', 200);
    await writeSealed(s, 'warm', 200);
    await writeSealedWith(s, 'warmw', 200);
    const plain: number[] = [];
    const sealed: number[] = [];
    const sealedWith: number[] = [];
    const indexed: number[] = [];
    const sealedTimes: number[] = [];
    const indexedTimes: number[] = [];
    await writePlainIndexed(s, 'warm', 200);
    // Interleaved rounds: the machine is shared and noisy, so every side sees the same noise.
    for (let r = 0; r < ROUNDS; r++) {
      plain.push(await writePlain(s, `R${r}`, ROWS));
      sealed.push(await writeSealed(s, `R${r}`, ROWS));
      sealedWith.push(await writeSealedWith(s, `W${r}`, ROWS, sealedTimes));
      indexed.push(await writePlainIndexed(s, `R${r}`, ROWS, indexedTimes));
    }
    report(`vault ${kind}: account rows, plaintext`, `${Math.round(median(plain)).toLocaleString('en')} rows/s (median of ${ROUNDS} × ${ROWS}, 1 row per transaction)`);
    // Sign-up's path: createSubjectWith (PostgreSQL: key and row in one statement; SQLite: a reserved key claimed).
    report(`vault ${kind}: account rows, encrypted + 2 blind indexes`, `${Math.round(median(sealedWith)).toLocaleString('en')} rows/s (createSubjectWith, as sign-up)`);
    report(`vault ${kind}: encrypted / plaintext`, `${(median(sealedWith) / median(plain)).toFixed(2)} (goal >= 0.66)`);
    report(`vault ${kind}: plaintext + the 2 blind-index columns, no encryption`, `${Math.round(median(indexed)).toLocaleString('en')} rows/s = ${(median(indexed) / median(plain)).toFixed(2)} of plaintext (the indexes' own cost)`);
    report(`vault ${kind}: per transaction, plaintext + 2 index columns`, tail(indexedTimes));
    report(`vault ${kind}: per transaction, encrypted (sign-up path)`, tail(sealedTimes));
    report(`vault ${kind}: same, createSubject then the row`, `${Math.round(median(sealed)).toLocaleString('en')} rows/s = ${(median(sealed) / median(plain)).toFixed(2)} of plaintext`);
    const l = await lookups(s);
    report(`vault ${kind}: e-mail lookup by blind index (${LOOKUP_ROWS.toLocaleString('en')} rows)`, `p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms (goal p50 < 1 ms)`);
  });
  if (!ran) report(`vault ${kind}`, 'skipped: PostgreSQL does not answer');
}

/** R-SEC-4 cost: encrypted account creation vs plaintext, and sign-in lookup by blind index, on both engines. */
export async function vaultBench(): Promise<void> {
  await benchEngine('sqlite');
  await benchEngine('postgres');
}
