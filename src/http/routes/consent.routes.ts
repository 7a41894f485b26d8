import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppInstance } from '../app-instance.js';
import { errors } from '../../internal/errors/app-error.js';
import type { ConsentState } from '../../modules/consent/consent.js';

const ConsentView = Type.Object({
  purpose: Type.String(),
  title: Type.String(),
  status: Type.String(),
  granted: Type.Boolean(),
  source: Type.Union([Type.String(), Type.Null()]),
  at: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});
const PurposeParams = Type.Object({ purpose: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
const ReceiptParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const SetBody = Type.Object({ granted: Type.Boolean(), confirmOverrideGpc: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

const present = (c: ConsentState) => ({ purpose: c.purpose, title: c.title, status: c.status, granted: c.granted, source: c.source, at: c.at, expiresAt: c.expiresAt });

/** The signed-in subject (the auth plugin sets `ctx.actor = { type: 'user', id: subjectId }`). */
function subjectOf(request: FastifyRequest): string {
  if (request.ctx.actor.type !== 'user') throw errors.unauthenticated();
  return request.ctx.actor.id;
}

/** A person's consents (R-USE-5, R-CHO-2): see, give, withdraw with one call, and fetch the signed receipts. */
export async function consentRoutes(app: AppInstance): Promise<void> {
  const { consents } = app.services.consent;
  const db = app.services.engine.db;
  const security = [{ bearer: [] }];

  app.get(
    '/v1/me/consents',
    { schema: { tags: ['consent'], summary: 'Every opt-in purpose with its current state', security, response: { 200: Type.Object({ consents: Type.Array(ConsentView) }) } } },
    async (request) => ({ consents: (await consents.list(db, subjectOf(request))).map(present) }),
  );

  app.put(
    '/v1/me/consents/:purpose',
    {
      schema: {
        tags: ['consent'],
        summary: 'Give or withdraw consent for one purpose; effective on the next decision',
        security,
        params: PurposeParams,
        body: SetBody,
        response: { 200: Type.Object({ consent: ConsentView, receiptId: Type.String() }) },
      },
    },
    async (request) => {
      const result = await consents.set(db, request.ctx, {
        subjectId: subjectOf(request),
        purpose: request.params.purpose,
        granted: request.body.granted,
        source: 'web',
        collectionMethod: 'privacy_center_toggle',
        gpc: request.headers['sec-gpc'] === '1',
        confirmOverrideGpc: request.body.confirmOverrideGpc === true,
      });
      return { consent: present(result.state), receiptId: result.receiptId };
    },
  );

  app.get(
    '/v1/me/consents/receipts/:id',
    {
      schema: {
        tags: ['consent'],
        summary: 'A signed consent receipt (Kantara CR v1.1 as a JWS; verify with /.well-known/jwks.json)',
        security,
        params: ReceiptParams,
        response: { 200: Type.Object({ receiptId: Type.String(), jws: Type.String(), receipt: Type.Record(Type.String(), Type.Unknown()) }) },
      },
    },
    async (request) => {
      const r = await consents.receipt(db, subjectOf(request), request.params.id);
      return { receiptId: request.params.id, jws: r.jws, receipt: r.receipt };
    },
  );
}
