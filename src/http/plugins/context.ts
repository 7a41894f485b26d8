import type { FastifyInstance } from 'fastify';
import type { ActorContext } from '../../internal/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is acting; set to anonymous here and replaced by the auth plugins. */
    ctx: ActorContext;
  }
}

export function registerContext(app: FastifyInstance): void {
  app.decorateRequest('ctx', null as unknown as ActorContext);
  app.addHook('onRequest', async (request) => {
    request.ctx = { actor: { type: 'anonymous', id: 'anonymous' }, requestId: request.id, ip: request.ip };
  });
}
