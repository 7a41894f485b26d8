import { Type, type Static } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { retryAfterHeader } from '../plugins/auth.js';
import type { ContactView } from '../../modules/contacts/contact.js';
import { ContactAddressSchema, ContactEmailSchema, ContactNameSchema, ContactPhoneSchema } from '../../modules/contacts/contact.input.js';

// Shared with corrections filed as rights requests (R-DSR-1): one shape for sharing and correcting.
const Address = ContactAddressSchema;
const Email = ContactEmailSchema;
const ContactSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Address, Type.Null()]),
  reason: Type.Union([Type.Literal('share'), Type.Literal('invite')]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted')]),
  createdAt: Type.String(),
  acceptedAt: Type.Union([Type.String(), Type.Null()], { description: 'When the person accepted the invitation' }),
  expiresAt: Type.Union([Type.String(), Type.Null()], { description: 'Erased at this time unless the invitation is accepted; null once accepted' }),
});

function present(c: ContactView): Static<typeof ContactSchema> {
  return { id: c.id, name: c.name, email: c.email, phone: c.phone, address: c.address, reason: c.reason, status: c.status, createdAt: c.createdAt, acceptedAt: c.acceptedAt, expiresAt: c.expiresAt };
}

/** Shared contacts (R-ACC-3), and erasure on the invitee's own request. */
export async function contactsRoutes(app: AppInstance): Promise<void> {
  const tags = ['contacts'];
  const security = [{ bearer: [] }];
  retryAfterHeader(app);
  app.post(
    '/v1/me/contacts',
    {
      preHandler: app.authenticateUser,
      schema: {
        tags,
        security,
        summary: 'Share with or invite someone; their details are kept only for that, and expire',
        body: Type.Object(
          { name: ContactNameSchema, email: Email, phone: Type.Optional(ContactPhoneSchema), address: Type.Optional(Address), reason: Type.Union([Type.Literal('share'), Type.Literal('invite')]) },
          { additionalProperties: false },
        ),
        response: { 201: ContactSchema },
      },
    },
    async (request, reply) => reply.code(201).send(present(await app.services.contacts.share(request.ctx, request.body))),
  );
  app.get('/v1/me/contacts', { preHandler: app.authenticateUser, schema: { tags, security, summary: 'The people you shared with or invited', response: { 200: Type.Object({ contacts: Type.Array(ContactSchema) }) } } }, async (request) => ({
    contacts: (await app.services.contacts.list(request.ctx)).map(present),
  }));
  app.delete('/v1/me/contacts/:id', { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Withdraw a contact: their data is erased', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: Type.Null() } } }, async (request, reply) => {
    await app.services.contacts.remove(request.ctx, request.params.id);
    return reply.code(204).send(null);
  });
  app.post(
    '/v1/contacts/erasure',
    {
      schema: {
        tags,
        summary: 'Someone shared your details with us? Ask for their erasure; we send a code to the address',
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Type.Object({ status: Type.Literal('accepted'), message: Type.String() }) },
      },
    },
    async (request, reply) => {
      await app.services.contactErasure.request(request.ctx, request.body.email);
      // The same answer whether or not we hold the address: nobody learns who was invited.
      return reply.code(202).send({ status: 'accepted' as const, message: 'If we hold this address, a code is on its way to it.' });
    },
  );
  app.post(
    '/v1/contacts/erasure/confirm',
    {
      schema: {
        tags,
        summary: 'Confirm the erasure with the code you received',
        body: Type.Object({ email: Email, code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ erased: Type.Integer() }) },
      },
    },
    async (request) => app.services.contactErasure.confirm(request.ctx, request.body.email, request.body.code),
  );
  app.post(
    '/v1/contacts/accept',
    {
      preHandler: app.authenticateUser,
      schema: {
        tags,
        security,
        summary: 'Accept an invitation with the code we e-mailed you (sign in or sign up first); the code travels in the body, never in a URL',
        body: Type.Object({ code: Type.String({ pattern: '^[0-9A-Za-z][0-9A-Za-z -]{14,30}[0-9A-Za-z]$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ id: Type.String(), reason: Type.Union([Type.Literal('share'), Type.Literal('invite')]), acceptedAt: Type.String() }) },
      },
    },
    async (request) => app.services.contacts.acceptance.accept(request.ctx, request.body.code),
  );
}
