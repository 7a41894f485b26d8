import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import type { ActorContext } from '../../src/internal/context.js';
import { makePerson, userCtx } from './person.js';

const staffCtx: ActorContext = { actor: { type: 'service', id: 'apikey-dpo' }, requestId: randomUUID() };
const fresh = () => ({ stepUpAt: new Date().toISOString() });

/** A pid that existed a moment ago and is gone now (a process that ran and exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe.each(ENGINES)('rights work is done by one runner at a time on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());
  const rights = () => stack.services.rights.requests;
  const exportsDir = () => path.join(stack.config.dataDir, 'exports');
  const filesOf = (id: string) => (fs.existsSync(exportsDir()) ? fs.readdirSync(exportsDir()).filter((f) => f.startsWith(`${id}-`)).sort() : []);

  /** A completed export put back in progress with a claim held by `holder` until `until`, as a run still going on (or one that died). */
  async function interruptedExport(subjectId: string, holder: string, until: string): Promise<string> {
    const r = await rights().file(userCtx(subjectId), { subjectId, type: 'export', params: {}, verification: fresh() });
    await stack.services.engine.db.updateTable('rights_requests').set({ status: 'in_progress', completed_at: null, work_lease: holder, work_lease_until: until }).where('id', '=', r.id).execute();
    return r.id;
  }

  it('R-DSR-8: a request a live process is working on is not run again: resume answers 409 REQUEST_BUSY and `pledge rights run` skips it', async () => {
    const person = await makePerson(stack, 0);
    const live = `${os.hostname()}:${process.pid}:another-runner`;
    const id = await interruptedExport(person.id, live, new Date(Date.now() + 60_000).toISOString());
    const before = filesOf(id);
    await expect(rights().resume(staffCtx, id)).rejects.toMatchObject({ code: 'REQUEST_BUSY' });
    const run = runCli(['rights', 'run', '--request', id], stack.env);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${id} skipped: another process is working on it`);
    expect(filesOf(id)).toEqual(before); // no second export was written
    // A claim from another machine that has run out is taken over.
    await stack.services.engine.db.updateTable('rights_requests').set({ work_lease: 'elsewhere:1:x', work_lease_until: new Date(Date.now() - 1000).toISOString() }).where('id', '=', id).execute();
    expect((await rights().resume(staffCtx, id)).status).toBe('completed');
  });

  it('R-DSR-8: two resumes of one request at once in one process: one does the work, the other is refused', async () => {
    const person = await makePerson(stack, 0);
    const id = await interruptedExport(person.id, 'nobody:0:x', new Date(Date.now() - 1000).toISOString());
    const both = await Promise.allSettled([rights().resume(staffCtx, id), rights().resume(staffCtx, id)]);
    expect(both.map((b) => b.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((both.find((b) => b.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: expect.stringMatching(/^(REQUEST_BUSY|CONFLICT)$/) });
    const trail = (await rights().get(id)).trail.filter((t) => t.status === 'completed');
    expect(trail).toHaveLength(2); // the first filing's completion and this resume's, not a third
    expect(filesOf(id)).toHaveLength(2); // one export: its .json and .html
  });

  it('R-DSR-7, R-DSR-6: the claim of a process that died is taken over at once; the files its cut-short run left are removed when the export completes, and erasure removes every file of the person\'s exports', async () => {
    const person = await makePerson(stack, 0);
    const gone = `${os.hostname()}:${deadPid()}:crashed`;
    const id = await interruptedExport(person.id, gone, new Date(Date.now() + 60_000).toISOString());
    // What the crashed run had written: a half file under the request's id that no row names.
    fs.writeFileSync(path.join(exportsDir(), `${id}-0badc0ffee0badc0.json`), '{"$schema":"half');
    const done = await rights().resume(staffCtx, id);
    expect(done.status).toBe('completed');
    const row = await stack.services.engine.db.selectFrom('rights_requests').select(['export_file', 'work_lease', 'work_lease_until']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ work_lease: null, work_lease_until: null });
    expect(filesOf(id)).toEqual([`${row.export_file}.html`, `${row.export_file}.json`]);

    fs.writeFileSync(path.join(exportsDir(), `${id}-feedfacefeedface.json`), '{"$schema":"half');
    const erased = await rights().file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: fresh() });
    expect(erased.status).toBe('completed');
    expect(filesOf(id)).toEqual([]);
  });

  it('R-DSR-8: two staff actions on one request at once: one extension or override wins, the other is told the request changed', async () => {
    const subject = randomUUID();
    stack.services.rights.doer.onErasureStep = () => {
      throw new Error('interrupted');
    };
    await expect(rights().file(staffCtx, { subjectId: subject, type: 'erase_account', params: {}, verification: { staffAttested: true } })).rejects.toThrow('interrupted');
    stack.services.rights.doer.onErasureStep = undefined;
    const [open] = await rights().list(subject);
    const max = stack.services.policy.requests.maxExtensionMs;
    const both = await Promise.allSettled([rights().extend(staffCtx, open!.id, max, 'first reason'), rights().extend(staffCtx, open!.id, max, 'second reason')]);
    expect(both.map((b) => b.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((both.find((b) => b.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: expect.stringMatching(/^(CONFLICT|EXTENSION_TOO_LONG)$/) });
    const after = (await rights().list(subject))[0]!;
    expect(Date.parse(after.dueAt) - Date.parse(open!.dueAt)).toBe(max);

    const declined = await rights().declineOpen(staffCtx, open!.id, 'UNREALISTIC');
    expect(declined.status).toBe('declined');
    const overrides = await Promise.allSettled([rights().override(staffCtx, open!.id, 'A justification long enough, first.'), rights().override(staffCtx, open!.id, 'A justification long enough, second.')]);
    expect(overrides.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((overrides.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
    const trail = (await rights().get(open!.id)).trail.map((t) => t.status);
    expect(trail.filter((s) => s === 'completed')).toHaveLength(1);
  });
});
