import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../start/services.js';
import type { AppInstance } from './app-instance.js';
import { frameworkErrors, registerErrorHandler } from './plugins/error-handler.js';
import { registerValidation } from './plugins/validation.js';
import { registerContext } from './plugins/context.js';
import { decisionsRoutes } from './routes/decisions.routes.js';

/**
 * A lean listener for the service-to-service decision API only (`POST /v1/decisions`, `/batch`), for an internal
 * port beside the public app. Callers are services with an API key, not browsers: no cookies, no CSP, no
 * per-request access-log row (no person's IP passes here), so a decision costs little more than a bare route.
 * The same routes are also served by the public app.
 */
export async function buildDecisionsApp(services: Services): Promise<AppInstance> {
  // No per-request log lines (warn and above still reach the log); Fastify's counter request ids.
  const logger = services.logger.child({ listener: 'decisions' }, { level: 'warn' });
  // One logger for all requests: a pino child per request (with its redaction set-up) costs more than a decision.
  // No "incoming request" / "request completed" lines: they are info (never written at warn) yet each built its object
  // per request; errors are still logged by the error handler.
  const logController = new LogController({ disableRequestLogging: true });
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: (l) => l, logController, frameworkErrors, bodyLimit: 1024 * 1024, requestIdHeader: false }).withTypeProvider<TypeBoxTypeProvider>() as unknown as AppInstance;
  app.decorate('services', services);
  registerValidation(app);
  registerErrorHandler(app);
  registerContext(app);
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  await app.register(decisionsRoutes);
  return app;
}
