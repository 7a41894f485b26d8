import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { PIXEL_GIF } from '../../modules/telemetry/pixels.service.js';

/**
 * R-TEL-5: `GET /v1/px/{token}.gif`. The answer is the same image with the same headers whether or not an open
 * was recorded (and for unknown tokens), so the response tells nothing about the person's consent.
 */
export async function pixelRoutes(app: AppInstance): Promise<void> {
  app.get(
    '/v1/px/:file',
    { schema: { tags: ['telemetry'], summary: 'E-mail open pixel (recorded only with consent to email_open_tracking)', params: Type.Object({ file: Type.String({ maxLength: 64 }) }) } },
    async (request, reply) => {
      const token = request.params.file.endsWith('.gif') ? request.params.file.slice(0, -4) : '';
      // A failure to record must not change the answer either.
      await app.services.telemetry.pixels.open(request.ctx, token).catch((e: unknown) => request.log.warn({ err: e instanceof Error ? e.message : 'unknown' }, 'pixel: open not recorded'));
      return reply.type('image/gif').header('cache-control', 'no-store, private').header('referrer-policy', 'no-referrer').send(PIXEL_GIF);
    },
  );
}
