import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, PG_URL, createStack, withSearchPath, type TestStack } from '../support/engines.js';
import { ROOT } from '../support/cli.js';
import { systemContext } from '../../src/internal/context.js';
import { person } from '../support/people.js';

/** Starts `pledge serve` on a free port and resolves with its base URL once it listens. */
function serve(env: Record<string, string>): Promise<{ url: string; decisionsUrl?: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/pledge.js'), 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    let url: string | undefined;
    let decisionsUrl: string | undefined;
    lines.on('line', (line) => {
      url ??= /Pledge listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
      decisionsUrl ??= /Pledge decision API listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
      if (url && (decisionsUrl || env.PLEDGE_DECISIONS_PORT === undefined)) resolve({ url, ...(decisionsUrl ? { decisionsUrl } : {}), proc });
    });
    proc.once('exit', (code) => reject(new Error(`pledge serve exited with ${code}`)));
  });
}

/** Two server processes on one PostgreSQL schema (R-USE-5 with several instances: LISTEN/NOTIFY). */
describe.skipIf(!ENGINES.includes('postgres'))('two pledge server processes on one PostgreSQL schema', () => {
  let stack: TestStack;
  let a: { url: string; proc: ChildProcess };
  let b: { url: string; decisionsUrl?: string; proc: ChildProcess };
  let key: string;

  beforeAll(async () => {
    stack = await createStack('postgres');
    key = (await stack.services.apiKeys.create(stack.services.engine.db, systemContext('test'), 'shop')).secret;
    // One data directory (key ring, cookie secret) for the test's own instance and both servers, as instances of one deployment share their key provider.
    const env = { PLEDGE_DATA_DIR: stack.config.dataDir, DATABASE_URL: withSearchPath(PG_URL, stack.schema!), RATE_LIMIT_PER_MINUTE: '100000' };
    a = await serve(env);
    // B also serves the decision API alone on an internal port (PLEDGE_DECISIONS_PORT); decisions are asked there.
    b = await serve({ ...env, PLEDGE_DECISIONS_PORT: '0' });
  }, 90_000);
  afterAll(async () => {
    a?.proc.kill('SIGTERM');
    b?.proc.kill('SIGTERM');
    await stack.close();
  });

  it('R-USE-5: a withdrawal through process A is seen by process B (warm cache) within one second', async () => {
    const p = person();
    const signUp = await fetch(`${a.url}/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(p) });
    expect(signUp.status).toBe(201);
    const { id } = (await signUp.json()) as { id: string };
    const signIn = await fetch(`${a.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: p.email, password: p.password }) });
    const { token } = (await signIn.json()) as { token: string };
    const put = (granted: boolean) =>
      fetch(`${a.url}/v1/me/consents/personalised_ads`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ granted }) });
    const decideOnB = async () => {
      const res = await fetch(`${b.decisionsUrl}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ subjectId: id, purpose: 'personalised_ads', category: 'user.contact.email' }) });
      return ((await res.json()) as { reason: string }).reason;
    };
    expect((await put(true)).status).toBe(200);
    expect(await decideOnB()).toBe('ALLOWED_CONSENT');
    expect(await decideOnB()).toBe('ALLOWED_CONSENT'); // now from B's cache
    expect((await put(false)).status).toBe(200);
    const started = Date.now();
    let reason = await decideOnB();
    while (reason !== 'CONSENT_WITHDRAWN' && Date.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 20));
      reason = await decideOnB();
    }
    expect(reason).toBe('CONSENT_WITHDRAWN');
  });
});
