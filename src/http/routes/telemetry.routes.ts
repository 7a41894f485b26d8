import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { AppError } from '../../internal/errors/app-error.js';
import { resolveSource, type SourceHints } from '../../modules/telemetry/telemetry-source.js';

const Accepted = Type.Object({ accepted: Type.Integer() });
const Counts = Type.Object({ email: Type.Integer(), phone: Type.Integer(), imei: Type.Integer(), card: Type.Integer(), ip: Type.Integer() });
const CrashBody = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 65_536, description: 'Stack trace, log or comment; scanned and redacted before storage' }),
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    route: Type.Optional(Type.String({ maxLength: 4096, description: 'Route data packets (traceroute)' })),
  },
  { additionalProperties: false },
);
const CrashView = Type.Object({
  id: Type.String(),
  receivedAt: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  firmware: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  redacted: Counts,
  deviceId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  route: Type.Union([Type.String(), Type.Null()]),
});

const hintsOf = (h: Record<string, string | string[] | undefined>): SourceHints => ({
  authorization: typeof h.authorization === 'string' ? h.authorization : undefined,
  deviceToken: typeof h['x-device-token'] === 'string' ? h['x-device-token'] : undefined,
  appPlatform: typeof h['x-app-platform'] === 'string' ? h['x-app-platform'] : undefined,
  appVersion: typeof h['x-app-version'] === 'string' ? h['x-app-version'] : undefined,
});

function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      throw new AppError('BODY_NOT_JSON', `Line ${out.length + 1} of the NDJSON body is not JSON`);
    }
  }
  return out;
}

/** Device and app telemetry (R-TEL-2, R-TEL-3): usage events and crash reports. */
export async function telemetryRoutes(app: AppInstance): Promise<void> {
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit: 4 * 1024 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseNdjson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.post(
    '/v1/telemetry/events',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags: ['telemetry'],
        summary: 'Send usage events of the User Experience Program (JSON array of up to 1,000, or NDJSON)',
        description: 'Authenticated by a device token (`Authorization: Device pdt_…`) or an app session. Accepted only while the owner is opted in; otherwise 403 CONSENT_MISSING / CONSENT_WITHDRAWN / SUBJECT_IS_CHILD and nothing is stored.',
        response: { 200: Accepted },
      },
    },
    async (request) => {
      const { source } = await resolveSource(app.services.telemetry.deviceTokens, request.ctx.actor, hintsOf(request.headers));
      if (!Array.isArray(request.body)) throw new AppError('VALIDATION_FAILED', 'The body must be a JSON array of events or NDJSON');
      const result = await app.services.telemetry.ingestion.ingest(source, request.body);
      return { accepted: result.accepted };
    },
  );

  app.post(
    '/v1/telemetry/crash',
    { schema: { tags: ['telemetry'], summary: 'Send a crash report (device token or app session)', body: CrashBody, response: { 201: Type.Object({ id: Type.String(), redacted: Counts }) } } },
    async (request, reply) => {
      const { source } = await resolveSource(app.services.telemetry.deviceTokens, request.ctx.actor, hintsOf(request.headers));
      const { body, deviceId, route } = request.body;
      const result = await app.services.telemetry.crashes.submit(request.ctx, source, { body, deviceId, route, ip: request.ip });
      return reply.code(201).send({ id: result.id, redacted: result.redacted });
    },
  );

  app.get(
    '/v1/telemetry/crash/:id',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Read a crash report (staff with the diagnostics role, purpose crash_diagnostics)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object({ purpose: Type.String() }, { additionalProperties: false }),
        response: { 200: CrashView },
      },
    },
    async (request) => {
      const r = await app.services.telemetry.crashes.read(request.ctx, request.params.id, request.query.purpose);
      return { id: r.id, receivedAt: r.receivedAt, model: r.model, firmware: r.firmware, body: r.body, redacted: r.redacted, deviceId: r.deviceId, ip: r.ip, route: r.route };
    },
  );
}
