import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AccessLogWriter, Clickstream, describeAgent, primaryLanguage, referrerOrigin, truncateIp } from '../../modules/telemetry/access-log.js';

/**
 * R-TEL-4: every HTTP request is recorded in the access log: IP (truncated later by the sweeper), browser type,
 * language, referring origin, OS, time, method, the route pattern (never the raw URL with its ids), status and a
 * cookie-less clickstream id. Added on the root instance so that it sees every route, the 404s included.
 */
export function registerAccessLog(app: FastifyInstance): void {
  const { engine, vault } = app.services;
  const sealIp = (subjectId: string, ip: string) => vault.encrypt(engine.db, subjectId, 'access_log', 'ip_sealed', ip);
  const writer = new AccessLogWriter(engine.db, app.services.policy, sealIp, (e) => app.log.warn({ err: e instanceof Error ? e.message : 'unknown' }, 'access log: a batch could not be written'));
  const clickstream = new Clickstream();
  app.addHook('onResponse', async (request, reply) => {
    const ua = request.headers['user-agent'];
    const { browser, os } = describeAgent(ua);
    const now = new Date();
    const actor = request.ctx?.actor;
    const subjectId = actor?.type === 'user' ? actor.id : null;
    writer.push({
      id: randomUUID(),
      subject_id: subjectId,
      at: now.toISOString(),
      ip: request.ip,
      ip_prefix: truncateIp(request.ip),
      ip_sealed: null,
      ip_truncated: 0,
      browser,
      os,
      language: primaryLanguage(request.headers['accept-language']),
      referrer: referrerOrigin(request.headers.referer),
      method: request.method,
      route: request.routeOptions.url ?? '(no route)',
      status: reply.statusCode,
      clickstream: clickstream.idFor({ ip: request.ip, subjectId }, ua, now),
    });
  });
  app.addHook('onClose', async () => writer.flush());
  app.decorate('accessLog', writer);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The access-log writer; `flush()` writes what is buffered (tests, shutdown). */
    accessLog: AccessLogWriter;
  }
}
