import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * JSON logs that never carry personal data: credentials and cookies are redacted, bodies are never
 * logged, and requests are logged by method and route pattern, without client address or raw URL.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.email',
          '*.phone',
          '*.name',
          '*.postalAddress',
          '*.cardNumber',
          '*.imei',
          '*.token',
        ],
        censor: '[redacted]',
      },
      serializers: {
        // Fastify's request lines ("incoming request", "request completed"): the method and the route pattern only.
        // Its own serializer adds the client address (personal data, kept only hashed or truncated in the access
        // log) and the raw URL (a path can carry a token linked to a person, e.g. an e-mail pixel).
        req: (req: { method?: string; id?: string; routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url ?? '(no route)', id: req.id }),
      },
    },
    destination,
  );
}
