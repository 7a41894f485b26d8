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
  // A callback hook, not an async one: it runs on every request, and a promise per request shows in the decision API's figures.
  app.addHook('onRequest', (request, _reply, done) => {
    request.ctx = { actor: { type: 'anonymous', id: 'anonymous' }, requestId: request.id, ip: request.ip };
    done();
  });
}
