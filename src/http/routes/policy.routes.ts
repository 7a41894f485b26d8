import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { buildPolicyView, renderPolicyHtml } from '../../modules/policy/policy.view.js';

const PurposeUse = Type.Object({ name: Type.String(), title: Type.String(), legalBasis: Type.String(), needsConsent: Type.Boolean(), aggregatesOnly: Type.Boolean() });

const PolicyViewSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  hash: Type.String(),
  controller: Type.Object({ name: Type.String(), contact: Type.String(), policyUrl: Type.String() }),
  categories: Type.Array(
    Type.Object({ key: Type.String(), description: Type.String(), personal: Type.Boolean(), retention: Type.String(), purposes: Type.Array(PurposeUse), recipientTypes: Type.Array(Type.String()) }),
  ),
  purposes: Type.Array(
    Type.Object({ name: Type.String(), title: Type.String(), dataUse: Type.String(), legalBasis: Type.String(), needsConsent: Type.Boolean(), categories: Type.Array(Type.String()) }),
  ),
  recipientTypes: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
});

export async function policyRoutes(app: AppInstance): Promise<void> {
  // The view depends only on the compiled policy, which never changes while the process runs.
  const view = buildPolicyView(app.services.policy);
  const html = renderPolicyHtml(view);
  app.get(
    '/v1/policy',
    {
      schema: {
        tags: ['policy'],
        summary: 'What we collect and why (R-CHO-1)',
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html')])) }, { additionalProperties: false }),
        response: { 200: PolicyViewSchema },
      },
    },
    async (request, reply) => {
      if (request.query.format === 'html') return reply.type('text/html; charset=utf-8').send(html as never);
      return view;
    },
  );
}
