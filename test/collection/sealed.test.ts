import fs from 'node:fs';
import path from 'node:path';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { countRows, expectProblem, leaks, signUpUser, type User } from './support.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const SECRET = 'my safe combination is 31-17-42 (Quokka-Nebelhorn)';
// jose refuses PBES2 unless asked for it (a passphrase-derived key is a deliberate choice).
const ALGS = { keyManagementAlgorithms: ['PBES2-HS256+A128KW', 'dir'] };
const PASSPHRASE = 'violet lantern under the marmot bridge';

/** Every secret the server holds on disk, as candidate keys: whole files and every base64 value of 16–64 bytes in them. */
function serverKeyCandidates(dataDir: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of fs.readdirSync(dataDir)) {
    const file = path.join(dataDir, f);
    if (!fs.statSync(file).isFile() || /\.db(-wal|-shm)?$/.test(f)) continue;
    const raw = fs.readFileSync(file);
    out.push(raw);
    for (const m of raw.toString('utf8').matchAll(/[A-Za-z0-9+/_-]{22,}={0,2}/g)) {
      const bytes = Buffer.from(m[0], m[0].includes('-') || m[0].includes('_') ? 'base64url' : 'base64');
      if (bytes.length >= 16 && bytes.length <= 64) out.push(bytes);
    }
  }
  return out;
}

async function opens(jwe: string, key: Uint8Array): Promise<boolean> {
  try {
    await compactDecrypt(jwe, key, ALGS);
    return true;
  } catch {
    return false;
  }
}

describe.each(ENGINES)('user-sealed values on %s', (kind) => {
  let stack: TestStack;
  let ana: User;
  let bo: User;
  const put = (u: User, name: string, payload: unknown) => stack.app.inject({ method: 'PUT', url: `/v1/me/sealed/${name}`, headers: u.auth, payload: payload as object });

  beforeAll(async () => {
    stack = await createStack(kind);
    ana = await signUpUser(stack);
    bo = await signUpUser(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('R-SEC-5: a value sealed in the client (PBES2 from a passphrase) round-trips; only the client opens it', async () => {
    const jwe = await new CompactEncrypt(enc.encode(SECRET)).setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' }).encrypt(enc.encode(PASSPHRASE));
    const res = await put(ana, 'safe-combination', { jwe });
    expect(res.statusCode, res.body).toBe(200);
    const back = await stack.app.inject({ method: 'GET', url: '/v1/me/sealed/safe-combination', headers: ana.auth });
    expect(back.json().jwe).toBe(jwe);
    expect(dec.decode((await compactDecrypt(back.json().jwe, enc.encode(PASSPHRASE), ALGS)).plaintext)).toBe(SECRET);
    // The server cannot: no key it holds opens the value, and neither the secret, the passphrase nor even the JWE is stored readable.
    const candidates = serverKeyCandidates(stack.config.dataDir);
    expect(candidates.length).toBeGreaterThan(0);
    for (const key of candidates) expect(await opens(jwe, key)).toBe(false);
    expect(await opens(jwe, enc.encode(PASSPHRASE))).toBe(true); // the probe can succeed: it is the keys that fail
    expect(leaks(stack, [SECRET, PASSPHRASE, jwe, jwe.split('.')[3]!.slice(0, 40)])).toEqual([]);
  });

  it('R-SEC-5: "dir" with a key derived on the client works the same; the server never sees the key', async () => {
    const key = pbkdf2Sync(PASSPHRASE, randomBytes(16), 200_000, 32, 'sha256');
    const jwe = await new CompactEncrypt(enc.encode(SECRET)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    expect((await put(ana, 'diary', { jwe })).statusCode).toBe(200);
    const back = (await stack.app.inject({ method: 'GET', url: '/v1/me/sealed/diary', headers: ana.auth })).json().jwe;
    expect(dec.decode((await compactDecrypt(back, key, ALGS)).plaintext)).toBe(SECRET);
    for (const k of serverKeyCandidates(stack.config.dataDir)) expect(await opens(back, k)).toBe(false);
    const names = (await stack.app.inject({ method: 'GET', url: '/v1/me/sealed', headers: ana.auth })).json().sealed.map((s: { name: string }) => s.name);
    expect(names).toEqual(['diary', 'safe-combination']);
  });

  it('R-SEC-5: anything but a JWE compact string is refused, oversize too, and nothing is written', async () => {
    const before = await countRows(stack, 'sealed_values');
    const header = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })).toString('base64url');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: SECRET } }, 400, 'JWE_INVALID');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: `${header}..aa.bb` } }, 400, 'JWE_INVALID');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: `e30..aa.bb.cc` } }, 400, 'JWE_INVALID');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: 42 } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: `${header}..aa.bb.cc`, note: 'hi' } }, 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: ana.auth, payload: { jwe: `${header}..aa.${'b'.repeat(65_600)}.cc` } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/x', headers: { ...ana.auth, 'content-type': 'application/json' }, payload: JSON.stringify({ jwe: 'a'.repeat(200_000) }) }, 413, 'BODY_TOO_LARGE');
    await expectProblem(stack, { method: 'PUT', url: '/v1/me/sealed/Not%20A%20Label', headers: ana.auth, payload: { jwe: `${header}..aa.bb.cc` } }, 400, 'VALIDATION_FAILED');
    expect(await countRows(stack, 'sealed_values')).toBe(before);
  });

  it("R-SEC-5: another user's token can neither read, overwrite nor delete your sealed values", async () => {
    const mine = (await stack.app.inject({ method: 'GET', url: '/v1/me/sealed/diary', headers: ana.auth })).json().jwe;
    await expectProblem(stack, { method: 'GET', url: '/v1/me/sealed/diary', headers: bo.auth }, 404, 'NOT_FOUND');
    await expectProblem(stack, { method: 'DELETE', url: '/v1/me/sealed/diary', headers: bo.auth }, 404, 'NOT_FOUND');
    // Bo writing the same label writes Bo's own value, never Ana's.
    const header = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })).toString('base64url');
    expect((await put(bo, 'diary', { jwe: `${header}..aa.bb.cc` })).statusCode).toBe(200);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/sealed/diary', headers: ana.auth })).json().jwe).toBe(mine);
    await expectProblem(stack, { method: 'GET', url: '/v1/me/sealed/diary' }, 401, 'UNAUTHENTICATED');
    expect((await stack.app.inject({ method: 'DELETE', url: '/v1/me/sealed/diary', headers: ana.auth })).statusCode).toBe(204);
    await expectProblem(stack, { method: 'GET', url: '/v1/me/sealed/diary', headers: ana.auth }, 404, 'NOT_FOUND');
  });
});
