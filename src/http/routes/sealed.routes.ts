import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { MAX_SEALED_LENGTH } from '../../modules/sealed/jwe.js';

const Params = Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'A short label, not data' }) });
const Sealed = Type.Object({ name: Type.String(), jwe: Type.String(), updatedAt: Type.String() });

/** User-sealed values (R-SEC-5): the server keeps and returns a JWE it cannot open. */
export async function sealedRoutes(app: AppInstance): Promise<void> {
  const tags = ['sealed'];
  const security = [{ bearer: [] }];
  app.put(
    '/v1/me/sealed/:name',
    {
      bodyLimit: MAX_SEALED_LENGTH + 1024,
      preHandler: app.authenticateUser,
      schema: {
        tags,
        security,
        summary: 'Store a value you encrypted yourself (JWE compact); we cannot decrypt it',
        params: Params,
        body: Type.Object({ jwe: Type.String({ minLength: 1, maxLength: MAX_SEALED_LENGTH }) }, { additionalProperties: false }),
        response: { 200: Sealed },
      },
    },
    async (request) => {
      const v = await app.services.sealed.put(request.ctx, request.params.name, request.body.jwe);
      return { name: v.name, jwe: v.jwe, updatedAt: v.updatedAt };
    },
  );
  app.get('/v1/me/sealed/:name', { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Read back a sealed value, exactly as stored', params: Params, response: { 200: Sealed } } }, async (request) => {
    const v = await app.services.sealed.get(request.ctx, request.params.name);
    return { name: v.name, jwe: v.jwe, updatedAt: v.updatedAt };
  });
  app.get(
    '/v1/me/sealed',
    { preHandler: app.authenticateUser, schema: { tags, security, summary: 'The labels of your sealed values', response: { 200: Type.Object({ sealed: Type.Array(Type.Object({ name: Type.String(), updatedAt: Type.String() })) }) } } },
    async (request) => ({ sealed: (await app.services.sealed.list(request.ctx)).map((s) => ({ name: s.name, updatedAt: s.updatedAt })) }),
  );
  app.delete('/v1/me/sealed/:name', { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Delete a sealed value', params: Params, response: { 204: Type.Null() } } }, async (request, reply) => {
    await app.services.sealed.remove(request.ctx, request.params.name);
    return reply.code(204).send(null);
  });
}
