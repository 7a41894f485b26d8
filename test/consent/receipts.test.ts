import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
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

  it('a receipt of a sensitive purpose says so; another subject cannot read it', async () => {
    const s = randomUUID();
    const { consents } = stack.services.consent;
    const db = stack.services.engine.db;
    const r = await consents.set(db, ctx, { subjectId: s, purpose: 'precise_location', granted: true, source: 'app', collectionMethod: 'app_permission', gpc: false, confirmOverrideGpc: false });
    const { receipt } = await consents.receipt(db, s, r.receiptId);
    expect(receipt).toMatchObject({ sensitive: true, spiCat: ['user.location.precise'] });
    await expect(consents.receipt(db, randomUUID(), r.receiptId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('the signing key is generated once and kept in the store: a second instance publishes the same key', async () => {
    const again = await createStack(kind, kind === 'postgres' ? { schema: stack.schema! } : { dataDir: stack.config.dataDir });
    try {
      expect(again.services.consent.receiptSigner.jwks()).toEqual(stack.services.consent.receiptSigner.jwks());
    } finally {
      await again.close();
    }
    const secret = `${stack.config.dataDir}/cookie-secret`;
    expect(fs.statSync(secret).mode & 0o777).toBe(0o600);
  });
});
