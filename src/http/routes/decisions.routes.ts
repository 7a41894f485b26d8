import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppInstance } from '../app-instance.js';
import { batchValidator, MAX_BATCH } from './decisions.validate.js';
import { batchJson, columnsJson, decisionJson } from './decisions.present.js';
import { registerDecisionsBodyParser } from './decisions.body.js';

const JSON_TYPE = 'application/json; charset=utf-8';

const DecisionRequest = Type.Object(
  {
    subjectId: Type.String({ minLength: 1, maxLength: 128 }),
    purpose: Type.String({ minLength: 1, maxLength: 100 }),
    category: Type.String({ minLength: 1, maxLength: 200 }),
    aggregate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const DecisionView = Type.Object({
  allow: Type.Boolean(),
  reason: Type.String(),
  // A type list, not anyOf: fast-json-stringify serialises anyOf by validating each branch, on every answer.
  legalBasis: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  policyVersion: Type.String(),
});
const Batch = Type.Object({ decisions: Type.Array(DecisionRequest, { minItems: 1, maxItems: MAX_BATCH }) }, { additionalProperties: false, title: 'Plain batch' });
const Index = Type.Integer({ minimum: 0 });
const CompactBatch = Type.Object(
  {
    purposes: Type.Array(DecisionRequest.properties.purpose, { minItems: 1, maxItems: MAX_BATCH, description: 'The purposes the items name, each once' }),
    categories: Type.Array(DecisionRequest.properties.category, { minItems: 1, maxItems: MAX_BATCH, description: 'The data categories the items name, each once' }),
    subjectIds: Type.Array(DecisionRequest.properties.subjectId, { minItems: 1, maxItems: MAX_BATCH, description: 'One per item' }),
    purpose: Type.Optional(Type.Array(Index, { description: "Per item, an index into `purposes`; required when it holds more than one" })),
    category: Type.Optional(Type.Array(Index, { description: "Per item, an index into `categories`; required when it holds more than one" })),
    aggregate: Type.Optional(Type.Array(Type.Boolean(), { description: 'Per item, as `aggregate` of the plain format' })),
  },
  {
    additionalProperties: false,
    title: 'Compact batch',
    description: 'The same items in columns: each purpose and category named once, items refer to them by index. Every name must be declared in the policy (else 400 UNKNOWN_PURPOSE / UNKNOWN_CATEGORY); the answer is compact too.',
  },
);
const BatchView = Type.Object({ decisions: Type.Array(DecisionView, { description: 'In request order' }) }, { title: 'Plain answer' });
const CompactView = Type.Object(
  {
    answers: Type.Array(DecisionView, { description: 'Each distinct decision of this batch, once' }),
    answer: Type.Array(Index, { description: 'Per item, in request order: the index of its decision in `answers`' }),
  },
  { title: 'Compact answer (to a compact batch)' },
);


/** "May I use this for that?" for other services (R-USE-1), authenticated with a service API key. */
export async function decisionsRoutes(app: AppInstance): Promise<void> {
  const { decisions, apiKeys } = app.services.consent;
  const db = app.services.engine.db;
  const security = [{ apiKey: [] }];
  // Callback style with a synchronous path for a key verified moments ago: no promise per request on the hot path.
  const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void): void => {
    const header = request.headers['x-api-key'];
    const secret = typeof header === 'string' ? header : undefined;
    if (apiKeys.verifiedRecently(secret)) return done();
    apiKeys.verify(db, secret).then(() => done(), done);
  };

  app.post(
    '/v1/decisions',
    { preHandler: authenticate, schema: { tags: ['decisions'], summary: 'One decision', security, body: DecisionRequest, response: { 200: DecisionView } } },
    // Not async: a warm cache answers synchronously (Fastify sends a returned value), a cold one with a promise; an
    // unknown purpose or category throws here, answered 400 by the error handler.
    // The answer is sent as pre-serialised text (decisions are a few shared objects), not serialised per request.
    (request, reply) => {
      const cached = decisions.decideCheckedCached(request.body);
      reply.type(JSON_TYPE);
      return (cached !== undefined ? decisionJson(cached) : decisions.decide(request.body).then(decisionJson)) as never;
    },
  );

  // Only the batch route reads its body with the streaming reader (it pays off for ~110 KB bodies; for a single
  // decision Fastify's own parser is cheaper). A registered plugin is encapsulated, so the reader stays in it.
  await app.register(async (child) => {
    const scope = child as unknown as AppInstance;
    registerDecisionsBodyParser(scope);
    scope.post(
      '/v1/decisions/batch',
      {
        preHandler: authenticate,
        schema: {
          tags: ['decisions'],
          summary: 'Up to 1,000 decisions, as a list of items or in the compact column format',
          security,
          body: Type.Union([Batch, CompactBatch]),
          response: { 200: Type.Union([BatchView, CompactView]) },
        },
        validatorCompiler: () => batchValidator,
      },
      async (request, reply) => {
        const body = request.body;
        const json = 'decisions' in body ? batchJson(await decisions.decideManyChecked(body.decisions)) : columnsJson(await decisions.decideColumnsChecked(body));
        return reply.type(JSON_TYPE).send(json as never);
      },
    );
  });
}
