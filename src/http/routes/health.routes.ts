import { sql } from 'kysely';
import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';

export async function healthRoutes(app: AppInstance): Promise<void> {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and store reachability',
        response: { 200: Type.Object({ status: Type.Literal('ok'), engine: Type.String(), policyVersion: Type.String() }) },
      },
    },
    async () => {
      await sql`select 1`.execute(app.services.engine.db);
      return { status: 'ok' as const, engine: app.services.engine.kind, policyVersion: app.services.policy.version };
    },
  );
}
