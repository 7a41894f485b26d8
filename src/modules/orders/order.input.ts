import { Type } from '@sinclair/typebox';

/**
 * The shapes of an order's address and delivery details on input, shared by `POST /v1/me/orders` and corrections
 * filed as rights requests (R-DSR-1), so a corrected value is held to exactly what placing the order accepts.
 */
const text = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const OrderAddressSchema = Type.Object(
  { name: text(200), line1: text(200), line2: Type.Optional(Type.String({ maxLength: 200 })), postalCode: text(20), city: text(100), country: Type.String({ pattern: '^[A-Z]{2}$' }) },
  { additionalProperties: false },
);

export const DeliverySchema = Type.Object(
  { address: OrderAddressSchema, phone: Type.Optional(Type.String({ minLength: 3, maxLength: 32 })), instructions: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
