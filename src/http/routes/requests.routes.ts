import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { errors } from '../../internal/errors/app-error.js';
import { FIELD_REF_PATTERN, REQUEST_TYPES, type RequestParams } from '../../modules/rights/rights.js';
import { RequestView, presentRequest } from './requests.presenter.js';
import { callerOf } from './rights.auth.js';

const Target = Type.Object(
  // The id is a record's UUID: it is kept in the request record, which outlives erasure, so it must never hold a value.
  { kind: Type.Union([Type.Literal('device'), Type.Literal('order_delivery'), Type.Literal('contact')]), id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

const FieldName = Type.String({ pattern: FIELD_REF_PATTERN, maxLength: 200, description: '`table.field` as the policy names it, `:<id>` for an order or a shared contact, `.key` for a part' });

/**
 * `{ type, … }`: a target or account `fields` for partial erasure, corrections for rectify (values travel once, never
 * stored; e.g. `{ "accounts.email": …, "orders.billing_address:<order id>": … }`), `lift` to end a restriction.
 */
const NewRequest = Type.Object(
  {
    type: Type.Union(REQUEST_TYPES.map((t) => Type.Literal(t))),
    target: Type.Optional(Target),
    fields: Type.Optional(Type.Array(FieldName, { minItems: 1, maxItems: 20, uniqueItems: true, description: 'erase_partial: optional fields of your account, e.g. accounts.postal_address.line2' })),
    corrections: Type.Optional(Type.Record(Type.String({ pattern: FIELD_REF_PATTERN, maxLength: 200 }), Type.Unknown(), { minProperties: 1, maxProperties: 20, additionalProperties: false })),
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
      // `fields` names what a partial erasure erases, and stands instead of a target; a correction names its fields by its keys.
      if (b.fields && (b.type !== 'erase_partial' || b.target)) throw errors.validation('fields go with erase_partial, without a target', { field: 'fields' });
      if (b.corrections && b.type !== 'rectify') throw errors.validation('corrections go with rectify', { field: 'corrections' });
      const fields = b.corrections ? Object.keys(b.corrections) : b.fields;
      const params: RequestParams = { ...(b.target ? { target: b.target } : {}), ...(fields ? { fields } : {}), ...(b.lift !== undefined ? { lift: b.lift } : {}) };
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
