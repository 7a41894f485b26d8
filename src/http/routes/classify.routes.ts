import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { classifyRecord } from '../../modules/policy/classifier.js';

/** R-CLS-2 for product engineers: is a record or dataset with these categories personal? */
export async function classifyRoutes(app: AppInstance): Promise<void> {
  app.post(
    '/v1/classify',
    {
      schema: {
        tags: ['policy'],
        summary: 'Classify a record or dataset as personal or non-personal (R-CLS-2)',
        body: Type.Object(
          {
            categories: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 200 }),
            linkedToSubject: Type.Boolean({ description: 'true when the record is joined to a person (account, device owner, contact)' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ classification: Type.Union([Type.Literal('personal'), Type.Literal('non_personal')]) }) },
      },
    },
    async (request) => ({ classification: classifyRecord(app.services.policy, request.body.categories, { linkedToSubject: request.body.linkedToSubject }) }),
  );
}
