import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { issueDeviceToken } from '../../src/modules/telemetry/device-tokens.js';
import { systemContext, type ActorContext } from '../../src/internal/context.js';
import { consentKit, type ConsentKit } from './support.js';
import { leaks } from '../collection/support.js';

const CRASH = `FATAL EXCEPTION: main (app 5.12.3 build 51203001)
  at com.smartmi.account.ProfileFragment.bind(ProfileFragment.java:212)
last user li.wei88@163.com phone +86 139 1099 8888 from 203.0.113.45, IMEI 490154203237518, card 4111 1111 1111 1111`;

describe.each(ENGINES)('crash reports on %s', (kind) => {
  let stack: TestStack;
  let kit: ConsentKit;
  let subjectId: string;
  let token: string;
  const staff: ActorContext = { actor: { type: 'staff', id: 'diag-1' }, requestId: 'r1' };
  beforeAll(async () => {
    stack = await createStack(kind);
    kit = await consentKit(stack);
    const db = stack.services.engine.db;
    subjectId = await db.transaction().execute((trx) => stack.services.vault.createSubject(trx, systemContext('test'), 'account'));
    token = await issueDeviceToken(db, systemContext('test'), stack.services.vault, { subjectId, deviceRef: 'dev-crash-1', model: 'zhimi.fan.za5', firmware: '2.4.1', region: 'CN' });
  });
  afterAll(async () => {
    await kit.stop();
    await stack.close();
  });

  const post = (payload: unknown) => stack.app.inject({ method: 'POST', url: '/v1/telemetry/crash', headers: { authorization: `Device ${token}` }, payload: payload as object });

  it('R-CLS-3 / R-TEL-3, R-CLS-2: the free text is redacted before storage and the counts are kept; device id, IP, route, model and firmware are sealed', async () => {
    const res = await post({ body: CRASH, deviceId: 'HW-8812-XYZ', route: '10.0.0.1 > 100.64.0.1 > 203.0.113.1' });
    expect(res.statusCode).toBe(201);
    expect(res.json().redacted).toEqual({ email: 1, phone: 1, imei: 1, card: 1, ip: 1 });
    const row = await stack.services.engine.db.selectFrom('crash_reports').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(row.body).toContain('last user [email] phone [phone] from [ip], IMEI [imei], card [card]');
    expect(row.body).toContain('ProfileFragment.java:212');
    const raw = JSON.stringify(row) + Buffer.from(row.device_id!).toString('latin1') + Buffer.from(row.ip!).toString('latin1');
    for (const secret of ['li.wei88@163.com', '490154203237518', 'HW-8812-XYZ', '127.0.0.1', '100.64.0.1']) expect(raw).not.toContain(secret);
    // Beside subject_id even the model is personal (R-CLS-2): nowhere in the store in clear, not even in the WAL.
    expect(leaks(stack, ['zhimi.fan.za5'])).toEqual([]);
  });

  it('R-TEL-3: only staff read a crash report, only for crash_diagnostics; the read is audited', async () => {
    const { id } = (await post({ body: 'watchdog reset', deviceId: 'HW-1', route: 'r' })).json();
    const crashes = stack.services.telemetry.crashes;
    const report = await crashes.read(staff, id, 'crash_diagnostics');
    expect(report).toMatchObject({ deviceId: 'HW-1', ip: '127.0.0.1', route: 'r', body: 'watchdog reset', model: 'zhimi.fan.za5', firmware: '2.4.1' });
    await expect(crashes.read(staff, id, 'product_analysis')).rejects.toMatchObject({ code: 'PURPOSE_DENIED' });
    await expect(crashes.read({ actor: { type: 'user', id: subjectId }, requestId: 'r2' }, id, 'crash_diagnostics')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const http = await stack.app.inject({ method: 'GET', url: `/v1/telemetry/crash/${id}?purpose=crash_diagnostics` });
    expect(http.statusCode).toBe(403);
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['action', 'purpose']).where('target', '=', id).execute();
    expect(audit.map((a) => a.action)).toEqual(['telemetry.crash_received', 'telemetry.crash_read']);
  });

  it('R-KID-2: a child account\'s crash reports are refused', async () => {
    await kit.markChild(subjectId);
    const res = await post({ body: 'boom' });
    expect(res.json().code).toBe('SUBJECT_IS_CHILD');
  });
});
