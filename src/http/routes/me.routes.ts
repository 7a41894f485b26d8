import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { requireUser, retryAfterHeader } from '../plugins/auth.js';
import { PasswordSchema, PostalAddressSchema, PrecisionSchema, ProfileSchema, presentProfile } from './account.schemas.js';

const tags = ['accounts'];
const security = [{ bearer: [] }];

const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'Needs a fresh step-up' })),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Needs a fresh step-up' })),
    postalAddress: Type.Optional(PostalAddressSchema),
    language: Type.Optional(Type.String({ minLength: 1, maxLength: 35 })),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    locationPrecision: Type.Optional(PrecisionSchema),
    currentPassword: Type.Optional(PasswordSchema),
    newPassword: Type.Optional(PasswordSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

const VerifyBody = Type.Object(
  { password: Type.Optional(PasswordSchema), code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })) },
  { additionalProperties: false },
);

/** The signed-in user's own account: read, change, and step-up (R-DSR-1, R-DSR-3). Only ever the caller's own subject. */
export async function meRoutes(app: AppInstance): Promise<void> {
  const { accounts, profile, stepUp } = app.services.accounts;
  retryAfterHeader(app);

  app.get('/v1/me', { schema: { tags, security, summary: 'Your account, decrypted for you', response: { 200: ProfileSchema } } }, async (request, reply) => {
    const session = requireUser(request);
    const p = await accounts.profile(app.services.engine.db, session.subjectId, 'subject_rights');
    return reply.header('cache-control', 'no-store').send(presentProfile(p));
  });

  app.patch(
    '/v1/me',
    { bodyLimit: 16 * 1024, schema: { tags, security, summary: 'Change your account (e-mail/phone need a fresh step-up; password needs the current one)', body: PatchBody, response: { 200: ProfileSchema } } },
    async (request, reply) => {
      const p = await profile.update(request.ctx, requireUser(request), request.body);
      return reply.header('cache-control', 'no-store').send(presentProfile(p));
    },
  );

  app.post(
    '/v1/me/verify',
    {
      bodyLimit: 4 * 1024,
      schema: { tags, security, summary: 'Step-up: re-prove it is you with your password or an e-mailed code', body: VerifyBody, response: { 200: Type.Object({ verifiedAt: Type.String(), verifiedUntil: Type.String() }) } },
    },
    async (request) => stepUp.verify(request.ctx, requireUser(request), request.body),
  );

  app.post(
    '/v1/me/verify/code',
    { schema: { tags, security, summary: 'E-mail a one-time code for step-up (valid 10 minutes, 5 tries)', response: { 202: Type.Object({ expiresAt: Type.String() }) } } },
    async (request, reply) => reply.code(202).send(await stepUp.sendCode(request.ctx, requireUser(request))),
  );
}
