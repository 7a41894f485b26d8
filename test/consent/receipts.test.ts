import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ENGINES, PG_URL, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';

const ctx = systemContext('test');

describe.each(ENGINES)('consent receipts on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-USE-5: every change yields a Kantara v1.1 receipt, signed ES256, verifiable with only /.well-known/jwks.json', async () => {
    const s = randomUUID();
    const { consents } = stack.services.consent;
    const db = stack.services.engine.db;
    const result = await consents.set(db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'web', collectionMethod: 'privacy_center_toggle', gpc: false, confirmOverrideGpc: false });
    const { jws } = await consents.receipt(db, s, result.receiptId);

    const res = await stack.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const jwks = res.json() as JSONWebKeySet;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(jws, createLocalJWKSet(jwks), { issuer: stack.services.policy.controller.policyUrl });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      version: 'KI-CR-v1.1.0',
      jurisdiction: 'CN',
      collectionMethod: 'privacy_center_toggle',
      consentReceiptID: result.receiptId,
      piiPrincipalId: s,
      policyUrl: stack.services.policy.controller.policyUrl,
      piiControllers: [expect.objectContaining({ piiController: stack.services.policy.controller.name })],
      sensitive: false,
      policyVersion: stack.services.policy.version,
    });
    expect(typeof payload.consentTimestamp).toBe('number');
    const purpose = (payload.services as { purposes: { purposeId: string; consentStatus: string; piiCategory: string[] }[] }[])[0]!.purposes[0]!;
    expect(purpose).toMatchObject({ purposeId: 'personalised_ads', consentStatus: 'given' });
    expect(purpose.piiCategory).toContain('user.behavior.purchase_history');

    // A tampered receipt fails verification.
    const [h, p, sig] = jws.split('.');
    const forged = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    forged.piiPrincipalId = randomUUID();
    await expect(jwtVerify(`${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`, createLocalJWKSet(jwks))).rejects.toThrow();
  });

  it('R-USE-5: a receipt of a sensitive purpose says so; another subject cannot read it', async () => {
    const s = randomUUID();
    const { consents } = stack.services.consent;
    const db = stack.services.engine.db;
    const r = await consents.set(db, ctx, { subjectId: s, purpose: 'precise_location', granted: true, source: 'app', collectionMethod: 'app_permission', gpc: false, confirmOverrideGpc: false });
    const { receipt } = await consents.receipt(db, s, r.receiptId);
    expect(receipt).toMatchObject({ sensitive: true, spiCat: ['user.location.precise'] });
    await expect(consents.receipt(db, randomUUID(), r.receiptId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-USE-5: the signing key is generated once and kept in the store: a second instance publishes the same key', async () => {
    const again = await createStack(kind, { dataDir: stack.config.dataDir, ...(kind === 'postgres' ? { schema: stack.schema! } : {}) });
    try {
      expect(again.services.consent.receiptSigner.jwks()).toEqual(stack.services.consent.receiptSigner.jwks());
    } finally {
      await again.close();
    }
    const secret = `${stack.config.dataDir}/cookie-secret`;
    expect(fs.statSync(secret).mode & 0o777).toBe(0o600);
  });

  it('R-SEC-4, R-USE-5: the private signing key is sealed by the vault: no copy of the store holds it in clear, and it survives a key rotation', async () => {
    const db = stack.services.engine.db;
    const row = await db.selectFrom('consent_signing_keys').selectAll().executeTakeFirstOrThrow();
    expect(row.private_jwk).toBe('');
    expect(row.private_sealed).not.toBeNull();
    const jwk = JSON.parse(await stack.services.vault.openServiceSecret(db, row.vault_key_id!, 'consent_receipt_signing_key', row.private_sealed!)) as { d: string };
    expect(jwk.d.length).toBeGreaterThan(40);
    // The private scalar appears nowhere in the data store's files (SQLite) or in a dump of its schemas (PostgreSQL).
    const dump = kind === 'sqlite'
      ? Buffer.concat(fs.readdirSync(stack.config.dataDir).filter((f) => f.startsWith('pledge.db')).map((f) => fs.readFileSync(path.join(stack.config.dataDir, f))))
      : execFileSync('pg_dump', ['--dbname', PG_URL, `--schema=${stack.schema}`, `--schema=${stack.schema}_keys`], { maxBuffer: 256 * 1024 * 1024 });
    expect(dump.length).toBeGreaterThan(10_000);
    expect(dump.includes(Buffer.from(row.public_jwk))).toBe(true);
    expect(dump.includes(Buffer.from(jwk.d))).toBe(false);
    // A rotation re-wraps the signing key's vault key with every other: a new instance still signs with the published key.
    const rotated = await stack.services.vault.rotateKeys(db, ctx);
    expect(rotated.retired).toEqual([1]);
    const again = await createStack(kind, { dataDir: stack.config.dataDir, ...(kind === 'postgres' ? { schema: stack.schema! } : {}) });
    try {
      const s = randomUUID();
      const result = await again.services.consent.consents.set(again.services.engine.db, ctx, { subjectId: s, purpose: 'promotions', granted: true, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
      const { jws } = await again.services.consent.consents.receipt(again.services.engine.db, s, result.receiptId);
      await expect(jwtVerify(jws, createLocalJWKSet(stack.services.consent.receiptSigner.jwks() as unknown as JSONWebKeySet))).resolves.toBeTruthy();
    } finally {
      await again.close();
    }
  });
});
