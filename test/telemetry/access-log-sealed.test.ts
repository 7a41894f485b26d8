import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, PG_URL, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser } from '../support/people.js';
import { systemContext } from '../../src/internal/context.js';

const DAY = 86_400_000;

describe.each(ENGINES)('access log: a signed-in person\'s IP is sealed under their key on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());
  const db = () => stack.services.engine.db;
  const rowsOf = (subjectId: string) => db().selectFrom('access_log').selectAll().where('subject_id', '=', subjectId).execute();
  const open = (subjectId: string, sealed: Buffer) => stack.services.vault.decrypt(db(), subjectId, 'access_log', 'ip_sealed', sealed, 'access_logging');

  it('R-TEL-4, R-DSR-7: the store keeps the network prefix in clear and the full address only sealed; after the shred it no longer opens', async () => {
    const ip = '203.0.113.219';
    const { id, token } = await newUser(stack);
    const me = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token), remoteAddress: ip });
    expect(me.statusCode).toBe(200);
    const anonymous = await stack.app.inject({ method: 'GET', url: '/v1/policy', remoteAddress: '198.51.100.164' });
    expect(anonymous.statusCode).toBe(200);
    await stack.app.accessLog.flush();

    const [row] = (await rowsOf(id)).filter((r) => r.route === '/v1/me');
    expect(row).toMatchObject({ ip: '203.0.113.0/24', ip_prefix: '203.0.113.0/24', ip_truncated: 0 });
    expect(row!.ip_sealed).not.toBeNull();
    expect(await open(id, row!.ip_sealed!)).toBe(ip);
    // An anonymous request has no person to seal it for: its address stays in clear until the truncation sweep.
    const anon = await db().selectFrom('access_log').selectAll().where('route', '=', '/v1/policy').where('subject_id', 'is', null).execute();
    expect(anon.map((r) => r.ip)).toContain('198.51.100.164');

    // Not in any byte of the store (SQLite files; pg_dump of the schemas).
    const dump = kind === 'sqlite'
      ? Buffer.concat(fs.readdirSync(stack.config.dataDir).filter((f) => f.startsWith('pledge.db')).map((f) => fs.readFileSync(path.join(stack.config.dataDir, f))))
      : execFileSync('pg_dump', ['--dbname', PG_URL, `--schema=${stack.schema}`], { maxBuffer: 256 * 1024 * 1024 });
    expect(dump.includes(Buffer.from('198.51.100.164'))).toBe(true);
    expect(dump.includes(Buffer.from(ip))).toBe(false);

    await stack.services.vault.shred(db(), systemContext('test'), id);
    await expect(open(id, row!.ip_sealed!)).rejects.toMatchObject({ code: 'SUBJECT_ERASED' });
  });

  it('R-TEL-4, R-DSR-7: a signed-in person\'s clickstream id is not the one of the same browser\'s anonymous requests, so no join leads from their rows to a clear IP', async () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0';
    const { id, token } = await newUser(stack);
    await stack.app.inject({ method: 'GET', url: '/v1/policy', headers: { 'user-agent': ua }, remoteAddress: '198.51.100.77' });
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(token), 'user-agent': ua }, remoteAddress: '198.51.100.77' });
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(token), 'user-agent': ua }, remoteAddress: '203.0.113.9' });
    await stack.app.accessLog.flush();
    const mine = await rowsOf(id);
    expect(mine).toHaveLength(2);
    // One session for the person across addresses, none shared with the anonymous row of the same IP and browser.
    expect(new Set(mine.map((r) => r.clickstream)).size).toBe(1);
    const anonymous = await db().selectFrom('access_log').select('clickstream').where('ip', '=', '198.51.100.77').where('subject_id', 'is', null).execute();
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]!.clickstream).not.toBe(mine[0]!.clickstream);
  });

  it('R-TEL-4: the truncation sweep drops the sealed address with the clear one', async () => {
    const { id, token } = await newUser(stack);
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token), remoteAddress: '192.0.2.77' });
    await stack.app.accessLog.flush();
    expect((await rowsOf(id)).some((r) => r.ip_sealed !== null)).toBe(true);
    await stack.services.retention.run({ now: new Date(Date.now() + 8 * DAY) });
    const after = await rowsOf(id);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.ip_sealed === null && r.ip_truncated === 1 && r.ip === '192.0.2.0/24')).toBe(true);
  });
});
