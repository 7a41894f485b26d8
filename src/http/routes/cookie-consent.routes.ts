import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Signer } from '@fastify/cookie';
import type { AppInstance } from '../app-instance.js';
import type { WebConsentView } from '../../modules/consent/cookie-consent.service.js';

const COOKIE = 'pledge_consent';
/** 13 months, the retention the policy gives cookie identifiers. */
const MAX_AGE_S = 13 * 30 * 24 * 3600;
const State = Type.Union([Type.Literal('granted'), Type.Literal('denied')]);

const View = Type.Object({
  categories: Type.Object({ necessary: Type.Boolean(), preferences: Type.Boolean(), analytics: Type.Boolean(), marketing: Type.Boolean() }),
  gpc: Type.Boolean(),
  consentMode: Type.Object({
    ad_storage: State, analytics_storage: State, ad_user_data: State, ad_personalization: State,
    functionality_storage: State, personalization_storage: State, security_storage: State,
  }),
  tcString: Type.String(),
  receiptId: Type.Union([Type.String(), Type.Null()]),
});
const Body = Type.Object(
  { preferences: Type.Optional(Type.Boolean()), analytics: Type.Optional(Type.Boolean()), marketing: Type.Optional(Type.Boolean()), confirmOverrideGpc: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const present = (v: WebConsentView) => ({ categories: v.categories, gpc: v.gpc, consentMode: v.consentMode, tcString: v.tcString, receiptId: v.receiptId });

/** The web banner (R-CHO-4, R-TEL-5): cookie categories, GPC, Consent Mode v2 and a TCF v2.2 string. */
export async function cookieConsentRoutes(app: AppInstance): Promise<void> {
  const { cookieConsent, cookieSecret } = app.services.consent;
  const db = app.services.engine.db;
  const signer = new Signer(cookieSecret);

  const input = (request: FastifyRequest) => {
    const raw = request.cookies[COOKIE];
    const unsigned = raw ? signer.unsign(raw) : undefined;
    return {
      subjectId: request.ctx.actor.type === 'user' ? request.ctx.actor.id : undefined,
      cookie: unsigned?.valid ? (unsigned.value ?? undefined) : undefined,
      gpc: request.headers['sec-gpc'] === '1',
    };
  };
  const store = (reply: FastifyReply, view: WebConsentView): void => {
    if (view.cookie === '') {
      reply.clearCookie(COOKIE, { path: '/' });
      return;
    }
    reply.setCookie(COOKIE, signer.sign(view.cookie), { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: MAX_AGE_S });
  };

  app.get('/v1/cookie-consent', { schema: { tags: ['consent'], summary: 'The cookie choices of this browser or person', response: { 200: View } } }, async (request, reply) => {
    const view = await cookieConsent.state(db, request.ctx, input(request));
    if (view.cookie === '') store(reply, view);
    return present(view);
  });

  app.put(
    '/v1/cookie-consent',
    { schema: { tags: ['consent'], summary: 'Accept or reject cookie categories', body: Body, response: { 200: View } } },
    async (request, reply) => {
      const { confirmOverrideGpc, ...choices } = request.body;
      const view = await cookieConsent.update(db, request.ctx, { ...input(request), choices, confirmOverrideGpc: confirmOverrideGpc === true });
      store(reply, view);
      return present(view);
    },
  );
}
