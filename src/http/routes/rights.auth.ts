import type { FastifyRequest } from 'fastify';
import { AppError } from '../../internal/errors/app-error.js';
import { requireUser } from '../plugins/auth.js';
import type { ActorContext } from '../../internal/context.js';
import type { Verification } from '../../modules/rights/rights.js';

/** The signed-in person behind a rights route, and how recently they re-proved who they are (R-DSR-3). */
export interface RightsCaller {
  readonly subjectId: string;
  readonly ctx: ActorContext;
  readonly verification: Verification;
}

/** The caller from the auth plugin's session (401 when anonymous); its `verifiedAt` is the last step-up. */
export function callerOf(request: FastifyRequest): RightsCaller {
  const session = requireUser(request);
  return {
    subjectId: session.subjectId,
    ctx: { ...request.ctx, actor: { type: 'user', id: session.subjectId }, purpose: 'subject_rights' },
    verification: { stepUpAt: session.verifiedAt ?? undefined },
  };
}

/** Staff acting through the admin API key (staff accounts come later); recorded as the actor of everything they do. */
export async function adminOf(request: FastifyRequest, verify: ((secret: string | undefined) => Promise<{ id: string; scope: string }>) | undefined): Promise<ActorContext> {
  if (!verify) throw new AppError('API_KEY_INVALID', 'The admin API is not available in this build');
  const header = request.headers['x-api-key'];
  const key = await verify(typeof header === 'string' ? header : undefined);
  // A service key (a shop asking for decisions) must not reach the rights queue or file erasures for anyone.
  if (key.scope !== 'admin') throw new AppError('FORBIDDEN', 'This API key may not use the admin API (create one with --scope admin)');
  return { ...request.ctx, actor: { type: 'service', id: `apikey:${key.id}` }, purpose: 'subject_rights' };
}
