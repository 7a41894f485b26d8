import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActorContext } from '../../internal/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is acting: anonymous until an auth plugin replaces it. */
    ctx: ActorContext;
  }
}

const kCtx = Symbol('pledge.ctx');
type WithCtx = FastifyRequest & { [kCtx]?: ActorContext };

/**
 * The actor context, made on first read instead of by an onRequest hook: a hook and an object per request (and the
 * client address it reads) showed in the decision API's figures, and most of that API's requests never read it.
 */
export function registerContext(app: FastifyInstance): void {
  app.decorateRequest('ctx', {
    getter(this: WithCtx): ActorContext {
      return (this[kCtx] ??= { actor: { type: 'anonymous', id: 'anonymous' }, requestId: this.id, ip: this.ip });
    },
    setter(this: WithCtx, value: ActorContext): void {
      this[kCtx] = value;
    },
  });
}
