import type { EngineKind } from '../src/internal/db/engine.js';
import { systemContext } from '../src/internal/context.js';
import { hashPassword } from '../src/modules/accounts/password.js';
import { median, report } from './report.js';
import { withBenchServices } from './bench-stack.js';

const AUTHS = 2000;
const SIGN_INS = 20;

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;

async function benchEngine(kind: EngineKind): Promise<void> {
  const ran = await withBenchServices(kind, async (s) => {
    const ctx = { ...systemContext('bench'), ip: '192.0.2.1' };
    const password = 'benchmark passphrase 2026';
    await s.accounts.accounts.signUp(ctx, { name: 'Bench', email: 'bench@example.org', phone: '+4930123456789', postalAddress: { line1: 'Hauptstrasse 1', city: 'Berlin', postalCode: '10115', country: 'DE' }, birthDate: '1990-04-01', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password });
    const signIns: number[] = [];
    let token = '';
    for (let i = 0; i < SIGN_INS; i++) {
      const t0 = performance.now();
      token = (await s.accounts.sessions.signIn(ctx, 'bench@example.org', password)).token;
      signIns.push(performance.now() - t0);
    }
    const auths: number[] = [];
    for (let i = 0; i < AUTHS; i++) {
      const t0 = performance.now();
      if (!(await s.accounts.sessions.authenticate(token))) throw new Error('token not accepted');
      auths.push(performance.now() - t0);
    }
    report(`accounts ${kind}: sign-in (lookup, decrypt, argon2id verify, session, audit)`, `median ${median(signIns).toFixed(1)} ms (${SIGN_INS} sign-ins)`);
    report(`accounts ${kind}: bearer token check per request`, `p50 ${percentile(auths, 0.5).toFixed(3)} ms, p99 ${percentile(auths, 0.99).toFixed(3)} ms (${AUTHS} checks)`);
  });
  if (!ran) report('accounts postgres', 'skipped: PostgreSQL does not answer');
}

/** R-SEC-4 cost of sign-in: argon2id alone, a whole sign-in, and the per-request token check, on both engines. */
export async function accountsBench(): Promise<void> {
  const hashes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await hashPassword(`password number ${i}`);
    hashes.push(performance.now() - t0);
  }
  report('accounts: argon2id hash (m = 19 MiB, t = 2, p = 1)', `median ${median(hashes).toFixed(1)} ms`);
  await benchEngine('sqlite');
  await benchEngine('postgres');
}
