import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppInstance } from '../app-instance.js';
import { batchJson, batchValidator } from './decisions.validate.js';

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
const Batch = Type.Object({ decisions: Type.Array(DecisionRequest, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

type DecisionViewT = Static<typeof DecisionView>;
const present = (d: DecisionViewT): DecisionViewT => ({ allow: d.allow, reason: d.reason, legalBasis: d.legalBasis, policyVersion: d.policyVersion });

/** "May I use this for that?" for other services (R-USE-1), authenticated with a service API key. */
export async function decisionsRoutes(app: AppInstance): Promise<void> {
  const { decisions, apiKeys } = app.services.consent;
  const db = app.services.engine.db;
  const security = [{ apiKey: [] }];
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers['x-api-key'];
    await apiKeys.verify(db, typeof header === 'string' ? header : undefined);
  };

  app.post(
    '/v1/decisions',
    { preHandler: authenticate, schema: { tags: ['decisions'], summary: 'One decision', security, body: DecisionRequest, response: { 200: DecisionView } } },
    async (request) => present(await decisions.decideChecked(request.body)),
  );

  app.post(
    '/v1/decisions/batch',
    {
      preHandler: authenticate,
      schema: { tags: ['decisions'], summary: 'Up to 1,000 decisions', security, body: Batch, response: { 200: Type.Object({ decisions: Type.Array(DecisionView) }) } },
      validatorCompiler: () => batchValidator,
    },
    async (request, reply) => reply.type('application/json; charset=utf-8').send(batchJson(await decisions.decideManyChecked(request.body.decisions)) as never),
  );
}
