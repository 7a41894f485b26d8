import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { REQUEST_TYPES, type RequestParams } from '../../modules/rights/rights.js';
import { RequestView, presentRequest } from './requests.presenter.js';
import { callerOf } from './rights.auth.js';

const Target = Type.Object(
  { kind: Type.Union([Type.Literal('device'), Type.Literal('order_delivery'), Type.Literal('contact')]), id: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

/** `{ type, … }`: a target for partial erasure, corrections for rectify (values travel once, never stored), `lift` to end a restriction. */
const NewRequest = Type.Object(
  {
    type: Type.Union(REQUEST_TYPES.map((t) => Type.Literal(t))),
    target: Type.Optional(Target),
    corrections: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$' }), Type.Unknown(), { maxProperties: 20 })),
    lift: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/** The person's own requests (R-DSR-1…8). Every answer is free of charge and says so by having no fee at all (R-DSR-5). */
export async function requestsRoutes(app: AppInstance): Promise<void> {
  const { rights } = app.services;

  app.post(
    '/v1/me/requests',
    { schema: { tags: ['rights'], summary: 'File a data subject request', security: [{ bearer: [] }], body: NewRequest, response: { 201: RequestView } } },
    async (request, reply) => {
      const caller = callerOf(request);
      const b = request.body;
      const params: RequestParams = { ...(b.target ? { target: b.target } : {}), ...(b.corrections ? { fields: Object.keys(b.corrections) } : {}), ...(b.lift !== undefined ? { lift: b.lift } : {}) };
      const r = await rights.requests.file(caller.ctx, { subjectId: caller.subjectId, type: b.type, params, verification: caller.verification, corrections: b.corrections });
      return reply.code(201).send(presentRequest(r));
    },
  );

  app.get('/v1/me/requests', { schema: { tags: ['rights'], summary: 'Your requests, newest first', security: [{ bearer: [] }], response: { 200: Type.Array(RequestView) } } }, async (request) => {
    const caller = callerOf(request);
    return (await rights.requests.list(caller.subjectId)).map(presentRequest);
  });

  app.get('/v1/me/requests/:id', { schema: { tags: ['rights'], summary: 'One of your requests with its status trail', security: [{ bearer: [] }], params: IdParams, response: { 200: RequestView } } }, async (request) => {
    const caller = callerOf(request);
    return presentRequest(await rights.requests.getOwn(caller.subjectId, request.params.id));
  });

  for (const format of ['json', 'html'] as const) {
    app.get(
      `/v1/me/requests/:id/export.${format}`,
      { schema: { tags: ['rights'], summary: `Download your export (${format.toUpperCase()}) while the link is valid`, security: [{ bearer: [] }], params: IdParams } },
      async (request, reply) => {
        const caller = callerOf(request);
        const stream = await rights.exports.open(caller.ctx, caller.subjectId, request.params.id, format);
        return reply
          .type(format === 'json' ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8')
          .header('content-disposition', `attachment; filename="pledge-export.${format}"`)
          .header('cache-control', 'no-store')
          .send(stream);
      },
    );
  }
}
