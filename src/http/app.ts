import fs from 'node:fs';
import Fastify from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../start/services.js';
import type { AppInstance } from './app-instance.js';
import { frameworkErrors, registerErrorHandler } from './plugins/error-handler.js';
import { registerValidation } from './plugins/validation.js';
import { registerContext } from './plugins/context.js';
import { registerRoutes } from './routes/index.js';

export interface AppOptions {
  readonly services: Services;
  /** Tests switch the rate limit off unless they test it. */
  readonly rateLimit?: boolean;
}

/** Builds the HTTP app; listening is the caller's business (server start, tests with inject()). */
export async function buildApp(options: AppOptions): Promise<AppInstance> {
  const { services } = options;
  const { config } = services;
  const tls = config.tlsCert && config.tlsKey ? { cert: fs.readFileSync(config.tlsCert), key: fs.readFileSync(config.tlsKey) } : undefined;
  const app = Fastify({
    loggerInstance: services.logger,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-* is believed only from the proxies we were told about.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    frameworkErrors,
    ...(tls ? { https: tls } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as AppInstance;

  app.decorate('services', services);
  registerValidation(app);
  registerErrorHandler(app);
  registerContext(app);

  await app.register(helmet, {
    hsts: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'frame-ancestors': ["'none'"],
        'form-action': ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
  });
  if (options.rateLimit !== false) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: '1 minute',
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'RATE_LIMITED', message: `Too many requests; try again in ${Math.ceil(ctx.ttl / 1000)} s` }),
    });
  }
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Pledge API', version: services.policy.version, description: 'The Smartmi privacy policy, enforced.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await registerRoutes(app);
  return app;
}
