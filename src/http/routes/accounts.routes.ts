import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { SignUpBody } from './account.schemas.js';

/** Sign-up (R-ACC-1). Everything personal goes into the vault; the answer is the new subject id only. */
export async function accountsRoutes(app: AppInstance): Promise<void> {
  app.post(
    '/v1/accounts',
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags: ['accounts'],
        summary: 'Create an account (duplicate e-mail or phone → 409 ACCOUNT_EXISTS)',
        body: SignUpBody,
        response: { 201: Type.Object({ id: Type.String() }) },
      },
    },
    async (request, reply) => {
      const id = await app.services.accounts.accounts.signUp(request.ctx, request.body);
      return reply.code(201).send({ id });
    },
  );
}
