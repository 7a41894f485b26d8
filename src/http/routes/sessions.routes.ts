import { Type } from '@sinclair/typebox';
import { Signer } from '@fastify/cookie';
import type { AppInstance } from '../app-instance.js';
import { requireUser, retryAfterHeader } from '../plugins/auth.js';
import { PasswordSchema } from './account.schemas.js';

/** Sign-in and sign-out. Failures are throttled per login and per IP (429 SIGN_IN_THROTTLED, 423 SIGN_IN_LOCKED). */
export async function sessionsRoutes(app: AppInstance): Promise<void> {
  retryAfterHeader(app);
  const consentCookie = new Signer(app.services.consent.cookieSecret);
  app.post(
    '/v1/sessions',
    {
      bodyLimit: 4 * 1024,
      schema: {
        tags: ['accounts'],
        summary: 'Sign in with e-mail or phone (E.164) and password; the token is shown once',
        body: Type.Object({ login: Type.String({ minLength: 1, maxLength: 254 }), password: PasswordSchema }, { additionalProperties: false }),
        response: { 201: Type.Object({ token: Type.String(), expiresAt: Type.String() }) },
      },
    },
    async (request, reply) => {
      const issued = await app.services.accounts.sessions.signIn(request.ctx, request.body.login, request.body.password);
      // The banner choices this browser made as a visitor become the person's own consents (R-CHO-4).
      const raw = request.cookies.pledge_consent;
      const visitor = raw ? consentCookie.unsign(raw) : undefined;
      if (visitor?.valid && visitor.value) {
        const ctx = { ...request.ctx, actor: { type: 'user' as const, id: issued.subjectId } };
        await app.services.consent.cookieConsent.mergeAtSignIn(app.services.engine.db, ctx, issued.subjectId, visitor.value, request.headers['sec-gpc'] === '1');
        reply.clearCookie('pledge_consent', { path: '/' });
      }
      return reply.code(201).header('cache-control', 'no-store').send({ token: issued.token, expiresAt: issued.expiresAt });
    },
  );

  app.delete(
    '/v1/sessions/current',
    { schema: { tags: ['accounts'], summary: 'Sign out: the token stops working at once', security: [{ bearer: [] }] } },
    async (request, reply) => {
      await app.services.accounts.sessions.signOut(request.ctx, requireUser(request));
      return reply.code(204).send();
    },
  );
}
