import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { collectAll } from '../../modules/rights/rights.collector.js';
import { callerOf } from './rights.auth.js';

/**
 * R-DSR-1: everything held about the signed-in person, across every store, in the shape of docs/export.schema.json.
 * The document is assembled by the rights module from each owning module's service; this route only presents it.
 */
export async function dataRoutes(app: AppInstance): Promise<void> {
  app.get(
    '/v1/me/data',
    {
      schema: {
        tags: ['rights'],
        summary: 'Everything we hold about you (the same document as the export)',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'See docs/export.schema.json' }) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const data = await collectAll(app.services.rights.deps, caller.subjectId);
      return reply.header('cache-control', 'no-store').send(data);
    },
  );
}
