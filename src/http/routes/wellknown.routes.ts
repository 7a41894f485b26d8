import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppInstance } from '../app-instance.js';

const Jwks = Type.Object({
  keys: Type.Array(Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String(), y: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() })),
});

/** The GPC support resource (Global Privacy Control spec, section 3.5). */
const GPC_SUPPORT = Object.freeze({ gpc: true, lastUpdate: '2026-11-25' });

/** Public keys that verify consent receipts, and the GPC support statement. */
export async function wellKnownRoutes(app: AppInstance): Promise<void> {
  const { receiptSigner } = app.services.consent;
  app.get('/.well-known/jwks.json', { schema: { tags: ['consent'], summary: 'Public keys that sign consent receipts', response: { 200: Jwks } } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return { keys: receiptSigner.jwks().keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, y: k.y, kid: k.kid, alg: k.alg, use: k.use })) };
  });
  app.get(
    '/.well-known/gpc.json',
    { schema: { tags: ['consent'], summary: 'We honour Global Privacy Control', response: { 200: Type.Object({ gpc: Type.Boolean(), lastUpdate: Type.String() }) } } },
    async () => GPC_SUPPORT,
  );
}

/**
 * R-TEL-5: any request of a signed-in user carrying `Sec-GPC: 1` opts the subject out of the purposes the
 * policy marks gpcOptOut (recorded with source `gpc`). Registered unencapsulated so it sees every route;
 * it runs after the auth plugin has named the actor. A failure here is logged and never fails the request.
 */
export async function gpcSignalHook(app: FastifyInstance): Promise<void> {
  app.addHook('preHandler', async (request) => {
    if (request.headers['sec-gpc'] !== '1' || request.ctx?.actor.type !== 'user') return;
    try {
      await app.services.consent.cookieConsent.applyGpc(app.services.engine.db, request.ctx, request.ctx.actor.id);
    } catch (err) {
      request.log.warn({ err }, 'the GPC signal could not be recorded');
    }
  });
}
(gpcSignalHook as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
