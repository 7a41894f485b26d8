import { Type, type Static } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import { DELIVERY_STATUSES, type OrderView } from '../../modules/orders/order.js';
import { DeliverySchema, OrderAddressSchema } from '../../modules/orders/order.input.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
// Shared with corrections filed as rights requests (R-DSR-1): one shape for placing and correcting.
const Address = OrderAddressSchema;
const Item = Type.Object(
  { sku: Text(64), title: Text(200), quantity: Type.Integer({ minimum: 1, maximum: 1000 }), unitPriceCents: Type.Integer({ minimum: 0, maximum: 100_000_000 }) },
  { additionalProperties: false },
);
const Delivery = DeliverySchema;
const CreditCheck = Type.Object(
  {
    provider: Text(100),
    result: Type.Union([Type.Literal('approved'), Type.Literal('declined'), Type.Literal('review')]),
    score: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    checkedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
const ContactRecord = Type.Object(
  { at: Type.String({ format: 'date-time' }), channel: Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('chat'), Type.Literal('letter')]), summary: Text(2000) },
  { additionalProperties: false },
);

const NewOrderBody = Type.Object(
  {
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    items: Type.Array(Item, { minItems: 1, maxItems: 100 }),
    delivery: Delivery,
    billingAddress: Address,
    bankAccount: Type.Optional(Type.Object({ holder: Text(200), iban: Type.String({ minLength: 15, maxLength: 42 }) }, { additionalProperties: false })),
    // Digits with optional spaces or dashes; the Luhn check and tokenisation happen in the service.
    card: Type.Optional(Type.Object({ number: Type.String({ minLength: 12, maxLength: 23, pattern: '^[0-9 -]+$' }) }, { additionalProperties: false })),
    creditCheck: Type.Optional(CreditCheck),
    contactRecords: Type.Optional(Type.Array(ContactRecord, { maxItems: 100 })),
  },
  { additionalProperties: false },
);

export const DeliveryStatusSchema = Type.Union(DELIVERY_STATUSES.map((x) => Type.Literal(x)));

const OrderSchema = Type.Object({
  id: Type.String(),
  placedAt: Type.String(),
  legalHoldUntil: Type.String({ description: 'End of the tax-law retention of invoices: the order is kept until then even after account erasure' }),
  currency: Type.String(),
  items: Type.Array(Item),
  totalCents: Type.Integer(),
  deliveryStatus: DeliveryStatusSchema,
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  delivery: Type.Union([Delivery, Type.Null()], { description: 'null once you had it erased after delivery (deliveryErasedAt says when)' }),
  deliveryErasedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  billingAddress: Address,
  bankAccount: Type.Union([Type.Object({ holder: Type.String(), iban: Type.String({ description: 'masked' }) }), Type.Null()]),
  card: Type.Union([Type.Object({ token: Type.String(), brand: Type.String(), last4: Type.String() }), Type.Null()]),
  creditCheck: Type.Union([CreditCheck, Type.Null()]),
  contactRecords: Type.Array(ContactRecord),
});

/** Presenter: the fields an owner sees, listed one by one. */
function present(o: OrderView): Static<typeof OrderSchema> {
  return {
    id: o.id,
    placedAt: o.placedAt,
    legalHoldUntil: o.legalHoldUntil,
    currency: o.currency,
    items: o.items.map((i) => ({ sku: i.sku, title: i.title, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    totalCents: o.totalCents,
    deliveryStatus: o.deliveryStatus,
    deliveredAt: o.deliveredAt,
    delivery: o.delivery,
    deliveryErasedAt: o.deliveryErasedAt,
    billingAddress: o.billingAddress,
    bankAccount: o.bankAccount ? { holder: o.bankAccount.holder, iban: o.bankAccount.iban } : null,
    card: o.card ? { token: o.card.token, brand: o.card.brand, last4: o.card.last4 } : null,
    creditCheck: o.creditCheck,
    contactRecords: [...o.contactRecords],
  };
}

/** Orders of the signed-in user (R-ACC-2). */
export async function ordersRoutes(app: AppInstance): Promise<void> {
  const tags = ['orders'];
  const security = [{ bearer: [] }];
  app.post(
    '/v1/me/orders',
    { bodyLimit: 256 * 1024, preHandler: app.authenticateUser, schema: { tags, security, summary: 'Place an order; the card number is tokenised and never stored (R-ACC-2)', body: NewOrderBody, response: { 201: OrderSchema } } },
    async (request, reply) => reply.code(201).send(present(await app.services.orders.place(request.ctx, request.body))),
  );
  app.get(
    '/v1/me/orders',
    { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Your orders, each with its legal hold', response: { 200: Type.Object({ orders: Type.Array(OrderSchema) }) } } },
    async (request) => ({ orders: (await app.services.orders.list(request.ctx)).map(present) }),
  );
}
