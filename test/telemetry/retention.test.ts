import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import { truncateIp } from '../../src/modules/telemetry/access-log.js';
import { newUser } from '../support/people.js';

const DAY = 86_400_000;

describe('R-TEL-4: IP truncation', () => {
  it('R-TEL-4: IPv4 to /24, IPv6 to /48, IPv4-mapped IPv6 as IPv4', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0/24');
    expect(truncateIp('2408:8207:2470:c2d0:1c3e:9a7f:fe12:3b45')).toBe('2408:8207:2470::/48');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(truncateIp('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
  });
});

describe.each(ENGINES)('access log and retention sweeper on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  const logRow = (at: Date, ip: string) => ({
    id: randomUUID(), subject_id: null, at: at.toISOString(), ip, ip_prefix: truncateIp(ip), ip_truncated: 0, browser: 'Chrome 120', os: 'Android',
    language: 'en', referrer: null, method: 'GET', route: '/health', status: 200, clickstream: 'c',
  });

  it('R-TEL-4: every request is recorded with IP, browser, language, referring origin, OS, time, route pattern and clickstream id', async () => {
    const id = randomUUID();
    await stack.app.inject({
      method: 'GET',
      url: `/v1/telemetry/crash/${id}?purpose=crash_diagnostics`,
      headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0.6099.230 Mobile Safari/537.36', 'accept-language': 'zh-CN,zh;q=0.9', referer: 'https://mail.example/inbox?user=bob@example.com' },
    });
    await stack.app.inject({ method: 'GET', url: '/health' });
    await stack.app.accessLog.flush();
    const rows = await stack.services.engine.db.selectFrom('access_log').selectAll().orderBy('at').execute();
    const crash = rows.find((r) => r.route === '/v1/telemetry/crash/:id');
    expect(crash).toMatchObject({ method: 'GET', status: 403, ip: '127.0.0.1', ip_truncated: 0, browser: 'Chrome 120', os: 'Android', language: 'zh-CN', referrer: 'https://mail.example' });
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(JSON.stringify(rows)).not.toContain('bob@example.com');
    expect(rows.find((r) => r.route === '/health')?.clickstream).toHaveLength(16);
  });

  it('R-TEL-4 / R-TEL-3 / R-TEL-2: one sweep truncates old IPs, deletes expired access logs, crash reports, events and epoch secrets; a second sweep removes nothing', async () => {
    const db = stack.services.engine.db;
    const now = new Date();
    await db.insertInto('access_log').values([logRow(new Date(now.getTime() - 8 * DAY), '203.0.113.77'), logRow(new Date(now.getTime() - 91 * DAY), '198.51.100.1'), logRow(now, '192.0.2.5')]).execute();
    await db.insertInto('crash_reports').values({ id: randomUUID(), subject_id: randomUUID(), received_at: new Date(now.getTime() - 91 * DAY).toISOString(), model: null, firmware: null, body: 'x', pii_counts: '{}', device_id: null, ip: null, route: null }).execute();
    await db.insertInto('telemetry_events').values({ pseudonym: 'p', event: 'app_open', fields: '{}', model: null, firmware: null, region: null, day: new Date(now.getTime() - 420 * DAY).toISOString().slice(0, 10) }).execute();
    const report = await stack.services.retention.run({ now });
    const by = Object.fromEntries(report.steps.map((s) => [s.name, s.removed]));
    expect(report.failed).toBe(0);
    expect(by['access_log.truncate_ips']).toBe(1);
    expect(by['access_log.rows']).toBe(1);
    expect(by['telemetry.crash_reports']).toBe(1);
    expect(by['telemetry.events']).toBe(1);
    const ips = (await db.selectFrom('access_log').select(['ip', 'ip_truncated']).where('route', '=', '/health').where('status', '=', 200).execute()).map((r) => r.ip);
    expect(ips).toContain('203.0.113.0/24');
    expect(ips).toContain('192.0.2.5');
    expect(ips).not.toContain('203.0.113.77');
    expect(ips).not.toContain('198.51.100.1');
    const again = await stack.services.retention.run({ now });
    expect(again.removed).toBe(0);
    const audit = await db.selectFrom('audit_log').select('target').where('action', '=', 'retention.swept').execute();
    expect(audit.map((a) => a.target)).toEqual(expect.arrayContaining(['access_log.rows', 'telemetry.crash_reports']));
  });

  it('R-CHO-2: the sweeper removes the pseudonym link of anyone no longer in the program, even if no event told us', async () => {
    const db = stack.services.engine.db;
    const leaver = randomUUID();
    await stack.services.telemetry.pseudonyms.pseudonymFor(db, leaver);
    const report = await stack.services.retention.run();
    expect(report.steps.find((s) => s.name === 'telemetry.links_of_leavers')?.removed).toBeGreaterThanOrEqual(1);
    expect(await db.selectFrom('telemetry_links').selectAll().where('subject_id', '=', leaver).execute()).toEqual([]);
  });

  it('retention: a failing sweep is reported and does not stop the others; `pledge retention run` prints the report', async () => {
    stack.services.retention.registerSweep(`test.broken.${kind}`, async () => {
      throw Object.assign(new Error('boom with data bob@example.com'), { code: 'TEST_BROKEN' });
    });
    const report = await stack.services.retention.run();
    const broken = report.steps.find((s) => s.name.startsWith('test.broken'));
    expect(broken).toMatchObject({ ok: false, error: 'TEST_BROKEN' });
    expect(report.steps.filter((s) => s.ok).length).toBeGreaterThan(4);
    const cli = runCli(['retention', 'run'], stack.env);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/access_log\.truncate_ips\s+removed 0/);
    expect(cli.stdout).toMatch(/outbox\.finished\s+removed \d+/);
    expect(cli.stdout).toMatch(/removed in \d+ steps, 0 failed/);
  });
});

describe.each(ENGINES)('outbox retention on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-USE-4: `retention run` deletes delivered and given-up e-mails older than the policy\'s span for sent e-mails; recent and undelivered ones stay', async () => {
    const db = stack.services.engine.db;
    const { outbox, retention, policy } = stack.services;
    const span = policy.categories.get('user.content.sent_email')?.retentionMs;
    expect(span).toBeGreaterThan(7 * DAY);
    expect(retention.names()).toContain('outbox.finished');
    const user = await newUser(stack);
    const message = (n: number) => ({ to: user.email, subject: `Notice ${n}`, text: `Text ${n}` });
    const queue = (n: number) => outbox.enqueue(db, { subjectId: user.id, purpose: 'verify_identity', kind: 'email_changed', message: message(n) });
    const oldSent = await queue(1);
    const recentSent = await queue(2);
    // Worker's timer or ours: wait until both are delivered.
    for (let i = 0; i < 50 && (await db.selectFrom('outbox').select('id').where('id', 'in', [oldSent, recentSent]).where('status', '=', 'sent').execute()).length < 2; i++) await outbox.deliverDue();
    // Still owed to the person: one waiting for a retry, one claimed by a worker; and one given up for good.
    const [waiting, claimed, givenUp] = await db.transaction().execute(async (trx) => {
      const ids = [];
      for (const n of [3, 4, 5]) ids.push(await outbox.enqueue(trx, { subjectId: user.id, purpose: 'verify_identity', kind: 'email_changed', message: message(n) }));
      const far = new Date(Date.now() + 3600_000).toISOString();
      await trx.updateTable('outbox').set({ status: 'pending', attempts: 2, last_error: 'ECONNREFUSED', next_attempt_at: far }).where('id', '=', ids[0]!).execute();
      await trx.updateTable('outbox').set({ status: 'sending', attempts: 1, next_attempt_at: far }).where('id', '=', ids[1]!).execute();
      await trx.updateTable('outbox').set({ status: 'failed', attempts: 5, last_error: 'ECONNREFUSED', next_attempt_at: far }).where('id', '=', ids[2]!).execute();
      return ids;
    });
    const now = new Date();
    const longAgo = new Date(now.getTime() - span! - DAY).toISOString();
    await db.updateTable('outbox').set({ created_at: longAgo, sent_at: longAgo }).where('id', '=', oldSent).execute();
    await db.updateTable('outbox').set({ created_at: longAgo }).where('id', 'in', [waiting!, claimed!, givenUp!]).execute();
    await db.updateTable('outbox').set({ sent_at: new Date(now.getTime() - span! + DAY).toISOString() }).where('id', '=', recentSent).execute();

    const report = await retention.run({ now });
    expect(report.failed).toBe(0);
    expect(report.steps.find((s) => s.name === 'outbox.finished')).toMatchObject({ ok: true, removed: 2 });
    const left = await db.selectFrom('outbox').select(['id', 'status']).where('subject_id', '=', user.id).orderBy('id').execute();
    expect(left.map((r) => r.id).sort()).toEqual([recentSent, waiting!, claimed!].sort());
    const audit = await db.selectFrom('audit_log').select('details').where('action', '=', 'retention.swept').where('target', '=', 'outbox.finished').execute();
    expect(audit.map((a) => JSON.parse(a.details) as unknown)).toEqual([expect.objectContaining({ removed: 2 })]);
    expect((await retention.run({ now })).steps.find((s) => s.name === 'outbox.finished')?.removed).toBe(0);
  });
});
