import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { DECLINE_REASONS, REQUEST_TYPES, REQUEST_STATUSES, STAFF_IDENTITY_CHECKS, type RequestParams } from '../../modules/rights/rights.js';
import { RequestView, presentRequest } from './requests.presenter.js';
import { adminOf } from './rights.auth.js';

const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const Queue = Type.Object(
  { status: Type.Optional(lit(REQUEST_STATUSES)), type: Type.Optional(lit(REQUEST_TYPES)), overdue: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
/** A queue entry adds whose request it is: the privacy office works on it. */
const QueueView = Type.Intersect([RequestView, Type.Object({ subjectId: Type.String() })]);

/** The privacy office's request queue (R-DSR-8), override of declines (R-DSR-4), filing on a person's behalf. Admin API key. */
export async function adminRequestsRoutes(app: AppInstance): Promise<void> {
  const { rights } = app.services;
  const verify = (secret: string | undefined) => app.services.apiKeys.verify(app.services.engine.db, secret);
  const security = [{ apiKey: [] }];

  app.get('/v1/admin/requests', { schema: { tags: ['rights-admin'], summary: 'The request queue, by due date', security, querystring: Queue, response: { 200: Type.Array(QueueView) } } }, async (request) => {
    await adminOf(request, verify);
    return (await rights.requests.queue(request.query)).map((r) => ({ ...presentRequest(r), subjectId: r.subjectId }));
  });

  app.post(
    '/v1/admin/requests',
    {
      schema: {
        tags: ['rights-admin'],
        summary: "File a request on a person's behalf (recorded as filed by staff)",
        security,
        body: Type.Object(
          { subjectId: Type.String({ format: 'uuid' }), type: lit(REQUEST_TYPES.filter((t) => t !== 'rectify')), identityCheck: lit(STAFF_IDENTITY_CHECKS), lift: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 201: QueueView },
      },
    },
    async (request, reply) => {
      const ctx = await adminOf(request, verify);
      const b = request.body;
      const params: RequestParams = b.lift !== undefined ? { lift: b.lift } : {};
      const r = await rights.requests.file(ctx, { subjectId: b.subjectId, type: b.type, params, verification: { staffAttested: true, staffMethod: b.identityCheck } });
      return reply.code(201).send({ ...presentRequest(r), subjectId: r.subjectId });
    },
  );

  app.post(
    '/v1/admin/requests/:id/extend',
    {
      schema: {
        tags: ['rights-admin'],
        summary: 'Extend the due date with a reason; the person is told',
        security,
        params: IdParams,
        body: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 366 }), reason: Type.String({ minLength: 10, maxLength: 1000 }) }, { additionalProperties: false }),
        response: { 200: QueueView },
      },
    },
    async (request) => {
      const ctx = await adminOf(request, verify);
      const r = await rights.requests.extend(ctx, request.params.id, request.body.days * 86_400_000, request.body.reason);
      return { ...presentRequest(r), subjectId: r.subjectId };
    },
  );

  app.post(
    '/v1/admin/requests/:id/override',
    {
      schema: {
        tags: ['rights-admin'],
        summary: 'Override a decline with a written justification (audited); the work then runs',
        security,
        params: IdParams,
        body: Type.Object({ justification: Type.String({ minLength: 20, maxLength: 2000 }) }, { additionalProperties: false }),
        response: { 200: QueueView },
      },
    },
    async (request) => {
      const ctx = await adminOf(request, verify);
      const r = await rights.requests.override(ctx, request.params.id, request.body.justification);
      return { ...presentRequest(r), subjectId: r.subjectId };
    },
  );

  app.post(
    '/v1/admin/requests/:id/decline',
    {
      schema: {
        tags: ['rights-admin'],
        summary: 'Decline an open request with a reason code (R-DSR-4); the answer tells the person why and where to complain',
        security,
        params: IdParams,
        body: Type.Object({ reason: lit(DECLINE_REASONS) }, { additionalProperties: false }),
        response: { 200: QueueView },
      },
    },
    async (request) => {
      const ctx = await adminOf(request, verify);
      const r = await rights.requests.declineOpen(ctx, request.params.id, request.body.reason);
      return { ...presentRequest(r), subjectId: r.subjectId };
    },
  );

  app.post('/v1/admin/requests/:id/resume', { schema: { tags: ['rights-admin'], summary: 'Finish a request whose work was interrupted', security, params: IdParams, response: { 200: QueueView } } }, async (request) => {
    const ctx = await adminOf(request, verify);
    const r = await rights.requests.resume(ctx, request.params.id);
    return { ...presentRequest(r), subjectId: r.subjectId };
  });
}
