import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * JSON logs that never carry personal data: credentials and cookies are redacted, bodies are never
 * logged, and URLs carry no personal values by design of the routes.
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
    },
    destination,
  );
}
