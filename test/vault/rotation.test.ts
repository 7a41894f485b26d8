import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, tmpDir } from '../support/engines.js';
import { ROOT, runCli } from '../support/cli.js';
import { systemContext } from '../../src/internal/context.js';
import { dropSchemas, freshSchema, keyRows } from './support.js';

const ctx = systemContext('vault-rotation-test');
const SUBJECTS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ENGINES)('key rotation on %s', (kind) => {
  const schema = kind === 'postgres' ? freshSchema() : undefined;
  afterAll(() => dropSchemas(schema));

  it('R-SEC-4: `pledge keys rotate` killed half-way resumes on the next run; everything decrypts and the old KEK is retired', async () => {
    const dataDir = tmpDir();
    const options = { dataDir, ...(schema ? { schema } : {}) };
    const stack = await createStack(kind, options);
    const { vault, engine } = stack.services;
    const sealed = new Map<string, Buffer>();
    await engine.db.transaction().execute(async (trx) => {
      for (let i = 0; i < SUBJECTS; i++) {
        const id = await vault.createSubject(trx, ctx, 'account');
        sealed.set(id, await vault.encrypt(trx, id, 'accounts', 'name', `Person ${i}`));
      }
    });
    const counts = () => vault.keyStore.countByVersion(engine.db);

    // First run, slowed down, killed without warning once some keys but not all are re-wrapped.
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/pledge.js'), 'keys', 'rotate', '--batch-size', '50', '--pause-ms', '150'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...stack.env },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let partial = new Map<number, number>();
    for (let waited = 0; waited < 30_000; waited += 25) {
      partial = await counts();
      if ((partial.get(2) ?? 0) >= 200) break;
      await sleep(25);
    }
    child.kill('SIGKILL');
    await exited;
    partial = await counts();
    expect(partial.get(2) ?? 0).toBeGreaterThanOrEqual(200);
    expect(partial.get(1) ?? 0).toBeGreaterThan(0); // really interrupted half-way

    // Second run: finds the outdated keys and finishes the same version instead of starting another.
    const resumed = runCli(['keys', 'rotate', '--batch-size', '500', '--grace-ms', '200'], stack.env);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/resuming an interrupted rotation to KEK v2/);
    expect(resumed.stdout).toMatch(/retired: v1/);
    // Reserved keys (made ahead on SQLite) are keys too, and so is the vault key sealing the receipt signing key: rotated like the rest.
    expect([...(await counts())]).toEqual([[2, SUBJECTS + 1 + (await keyRows(stack.services, 'reserved'))]]);
    const ring = JSON.parse(fs.readFileSync(path.join(dataDir, 'keyring.json'), 'utf8'));
    expect(ring.current).toBe(2);
    expect(ring.versions.find((v: { version: number }) => v.version === 1)).toMatchObject({ key: null, retiredAt: expect.any(String) });

    // The server that stayed up during the rotation, and a fresh start, read everything with the new version.
    vault.forgetKeys();
    const check = async (s: typeof stack) => {
      let i = 0;
      for (const [id, value] of sealed) {
        if (i % 10 === 0) s.services.vault.forgetKeys();
        expect(await s.services.vault.decrypt(s.services.engine.db, id, 'accounts', 'name', value, 'provide_service')).toMatch(/^Person \d+$/);
        i++;
      }
    };
    await check(stack);
    const created = await vault.createSubject(engine.db, ctx, 'account');
    expect((await vault.keyStore.findKey(engine.db, created))!.kek_version).toBe(2);
    await stack.close();
    const again = await createStack(kind, options);
    try {
      await check(again);
      const status = runCli(['keys', 'status'], stack.env);
      expect(status.stdout).toMatch(/v1 .*retired/);
      // The subjects, the one created after the rotation, and the vault key of the receipt signing key.
      expect(status.stdout).toMatch(new RegExp(`v2 .*current\\s+${SUBJECTS + 2 + (await keyRows(again.services, 'reserved'))} data key`));
    } finally {
      await again.close();
    }
  });
});
