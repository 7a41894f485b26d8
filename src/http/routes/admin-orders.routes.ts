import { Type } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { adminOf } from './rights.auth.js';
import { DeliveryStatusSchema } from './orders.routes.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const DeliveryPatch = Type.Object(
  {
    deliveryStatus: DeliveryStatusSchema,
    deliveredAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the carrier delivered it; only with deliveryStatus delivered, defaults to now' })),
  },
  { additionalProperties: false },
);
const DeliveryStateView = Type.Object({ id: Type.String(), deliveryStatus: DeliveryStatusSchema, deliveredAt: Type.Union([Type.String(), Type.Null()]) });

/** Staff record delivery progress (admin API key); the answer carries the state only, never the address. */
export async function adminOrdersRoutes(app: AppInstance): Promise<void> {
  const verify = (secret: string | undefined) => app.services.apiKeys.verify(app.services.engine.db, secret);
  app.patch(
    '/v1/admin/orders/:id',
    {
      schema: {
        tags: ['orders-admin'],
        summary: "Set an order's delivery status (pending → shipped → delivered, forward only)",
        security: [{ apiKey: [] }],
        params: IdParams,
        body: DeliveryPatch,
        response: { 200: DeliveryStateView },
      },
    },
    async (request) => {
      const ctx = { ...(await adminOf(request, verify)), purpose: 'process_orders' };
      return app.services.orders.setDeliveryStatus(ctx, request.params.id, request.body.deliveryStatus, request.body.deliveredAt);
    },
  );
}
