import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppInstance } from '../app-instance.js';
import type { ActorContext } from '../../internal/context.js';
import { errors } from '../../internal/errors/app-error.js';
import { GROUP_BY, METRICS, toCsv, type InsightResult } from '../../modules/telemetry/insights.service.js';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Query = Type.Object(
  {
    metric: Type.Union(METRICS.map((m) => Type.Literal(m))),
    groupBy: Type.Union(GROUP_BY.map((g) => Type.Literal(g))),
    from: Day,
    to: Day,
    event: Type.Optional(Type.String({ maxLength: 64 })),
    field: Type.Optional(Type.String({ maxLength: 64 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);
// `dataset` only names the release (audit entry, file name); the budget belongs to the days from…to cover.
const ReleaseBody = Type.Object(
  { dataset: Type.String({ pattern: '^[\\w.-]{1,64}$' }), groupBy: Type.Union(GROUP_BY.map((g) => Type.Literal(g))), from: Day, to: Day, event: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

const present = (r: InsightResult) => ({ k: r.k, suppressed: r.suppressed, groups: r.groups.map((g) => ({ key: g.key, value: g.value })) });

/**
 * R-USE-3 / R-AGG-1: the product team reads telemetry only as aggregates, with a service API key (`X-API-Key`)
 * or as staff. A device owner's session is refused (403): no one reads rows of the User Experience Program.
 */
async function aggregateReader(app: AppInstance, request: FastifyRequest): Promise<ActorContext> {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string') {
    const apiKey = await app.services.apiKeys.verify(app.services.engine.db, key);
    return { ...request.ctx, actor: { type: 'service', id: apiKey.id }, purpose: 'product_analysis' };
  }
  if (request.ctx.actor.type === 'staff') return { ...request.ctx, purpose: 'product_analysis' };
  if (request.ctx.actor.type === 'user') throw errors.forbidden('Telemetry is read only as aggregates, by the product team (service API key or staff)');
  throw errors.unauthenticated('Send a service API key (X-API-Key)');
}

export async function insightsRoutes(app: AppInstance): Promise<void> {
  app.get(
    '/v1/insights/events',
    { schema: { tags: ['insights'], summary: 'Aggregates of usage events; groups under k people are suppressed', querystring: Query } },
    async (request, reply) => {
      await aggregateReader(app, request);
      const { format, ...q } = request.query;
      const result = await app.services.telemetry.insights.query(q);
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(q.groupBy, q.metric, result.groups));
      return present(result);
    },
  );

  app.post(
    '/v1/insights/releases',
    {
      schema: {
        tags: ['insights'],
        summary: 'A public/partner release: noisy people per group (each pseudonym in at most m groups), groups whose noisy value is under k (τ for models, firmware and regions) left out; spends ε of the budget of every pseudonym epoch the days can hold; CSV',
        body: ReleaseBody,
      },
    },
    async (request, reply) => {
      const ctx = await aggregateReader(app, request);
      const { dataset, ...q } = request.body;
      const r = await app.services.telemetry.insights.release(ctx, dataset, q);
      return reply
        .type('text/csv; charset=utf-8')
        .header('x-privacy-epsilon', String(r.epsilon))
        .header('x-privacy-budget-remaining', String(Math.max(0, Number(r.remaining.toFixed(6)))))
        .header('content-disposition', `attachment; filename="${dataset}.csv"`)
        .send(toCsv(q.groupBy, 'people', r.groups));
    },
  );
}
