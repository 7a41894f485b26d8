import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import type { InjectOptions } from 'light-my-request';
import type { ActorContext } from '../../src/internal/context.js';
import { PG_URL, type TestStack } from '../support/engines.js';
import { newUser } from '../support/people.js';
import { occursOutsideHashes } from '../support/byte-search.js';

export interface User {
  readonly id: string;
  readonly token: string;
  readonly email: string;
  readonly auth: { authorization: string };
}

/** Signs a fresh user up and in through the API. */
export async function signUpUser(stack: TestStack): Promise<User> {
  const { id, token, email, auth } = await newUser(stack);
  return { id, token, email, auth };
}

export const userCtx = (id: string): ActorContext => ({ actor: { type: 'user', id }, requestId: randomUUID() });

/** Every byte the store holds: SQLite files with their WALs, or a pg_dump of the data and key schemas. */
export function storedBytes(stack: TestStack): Buffer {
  if (stack.kind === 'sqlite') {
    const dir = stack.config.dataDir;
    return Buffer.concat(fs.readdirSync(dir).filter((f) => /\.db(-wal)?$/.test(f)).map((f) => fs.readFileSync(path.join(dir, f))));
  }
  const schemas = [stack.schema!, `${stack.schema!}_keys`].flatMap((s) => ['-n', s]);
  return execFileSync('pg_dump', ['-d', PG_URL, ...schemas], { maxBuffer: 1 << 28 });
}

/** The needles found in the stored bytes or the captured logs (as text, and hex as a dump shows bytea). */
export function leaks(stack: TestStack, needles: readonly string[]): string[] {
  const bytes = storedBytes(stack);
  const logs = stack.logs.text();
  return needles.filter((v) => occursOutsideHashes(bytes, Buffer.from(v)) || bytes.includes(Buffer.from(Buffer.from(v).toString('hex'))) || logs.includes(v));
}

/** Asserts a 4xx problem+json with the code. */
export async function expectProblem(stack: TestStack, request: InjectOptions, status: number, code: string): Promise<void> {
  const res = await stack.app.inject(request);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(res.json().code).toBe(code);
}

export async function countRows(stack: TestStack, table: 'orders' | 'devices' | 'contacts' | 'sealed_values'): Promise<number> {
  const r = await stack.services.engine.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A Luhn-valid number with the given prefix and length (distinctive values for the leak scans). */
export function luhnNumber(prefix: string, length: number): string {
  let body = prefix;
  while (body.length < length - 1) body += String(Math.floor(Math.random() * 10));
  for (let d = 0; d < 10; d++) {
    const candidate = body + String(d);
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let x = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}
