/**
 * Bearer-token authentication of users — the contract other modules rely on:
 *
 * - Every request with `Authorization: Bearer <token>` is resolved in an `onRequest` hook (so later
 *   hooks and handlers see the result). A valid token sets
 *     `request.session = { id, subjectId, createdAt, expiresAt, verifiedAt }` and
 *     `request.ctx = { ...request.ctx, actor: { type: 'user', id: subjectId } }`.
 *   An unknown, malformed or expired token is answered 401 UNAUTHENTICATED (problem+json) at once.
 *   Without the header `request.session` is null and the actor stays anonymous.
 * - Routes that need a user use `{ preHandler: app.authenticateUser }` (401 when anonymous), or call
 *   `requireUser(request)` which returns the session or throws the same 401.
 * - `session.verifiedAt` is the last step-up (R-DSR-3, `POST /v1/me/verify`); `requireStepUp(request, windowMs)`
 *   throws 403 STEP_UP_REQUIRED unless it lies within the window (the policy's `requests.verificationWindow`).
 */
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { isStepUpFresh, type AuthSession } from '../../modules/accounts/session.js';
import type { Sessions } from '../../modules/accounts/sessions.service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: 401 unless a valid bearer token named a user. */
    authenticateUser: preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    /** The signed-in user's session, or null. */
    session: AuthSession | null;
  }
}

export type { AuthSession };

/** The signed-in user's session, or 401 UNAUTHENTICATED. */
export function requireUser(request: FastifyRequest): AuthSession {
  if (!request.session) throw errors.unauthenticated('Sign in first: send Authorization: Bearer <token> from POST /v1/sessions');
  return request.session;
}

/** The session, if its step-up is fresh; otherwise 403 STEP_UP_REQUIRED. */
export function requireStepUp(request: FastifyRequest, windowMs: number): AuthSession {
  const session = requireUser(request);
  if (!isStepUpFresh(session, windowMs)) throw new AppError('STEP_UP_REQUIRED', 'Confirm it is you first (POST /v1/me/verify)', { windowSeconds: Math.round(windowMs / 1000) });
  return session;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Adds `Retry-After` (RFC 9110 §10.2.3) to throttled and locked sign-in answers, from the error's
 * `retryAfterSeconds`; register in a route plugin.
 */
export function retryAfterHeader(app: FastifyInstance): void {
  app.addHook('onError', async (_request, reply, error) => {
    const seconds = (error as Partial<AppError>).details?.retryAfterSeconds;
    if (typeof seconds === 'number') void reply.header('retry-after', String(seconds));
  });
}

/** Installs the hook and the decorator on the root instance; call before any route is registered. */
export function registerAuth(app: FastifyInstance, sessions: Sessions): void {
  app.decorateRequest('session', null);
  app.decorate('authenticateUser', async (request: FastifyRequest) => {
    requireUser(request);
  });
  app.addHook('onRequest', async (request) => {
    request.session = null;
    const header = request.headers.authorization;
    if (header === undefined || !/^Bearer\s/i.test(header)) return;
    const token = BEARER.exec(header)?.[1];
    const session = token ? await sessions.authenticate(token) : undefined;
    if (!session) throw errors.unauthenticated('The token is unknown or has expired; sign in again');
    request.session = session;
    request.ctx = { ...request.ctx, actor: { type: 'user', id: session.subjectId } };
  });
}
