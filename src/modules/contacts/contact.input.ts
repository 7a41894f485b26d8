import { Type } from '@sinclair/typebox';

/**
 * The shapes of a shared contact's fields on input, shared by `POST /v1/me/contacts` and corrections filed as
 * rights requests (R-DSR-1), so a corrected value is held to exactly what sharing accepts.
 */
export const ContactNameSchema = Type.String({ minLength: 1, maxLength: 200 });
export const ContactEmailSchema = Type.String({ minLength: 3, maxLength: 254 });
export const ContactPhoneSchema = Type.String({ minLength: 3, maxLength: 32 });
export const ContactAddressSchema = Type.Object(
  { line1: Type.String({ minLength: 1, maxLength: 200 }), line2: Type.Optional(Type.String({ maxLength: 200 })), postalCode: Type.Optional(Type.String({ maxLength: 20 })), city: Type.String({ minLength: 1, maxLength: 100 }), country: Type.String({ pattern: '^[A-Z]{2}$' }) },
  { additionalProperties: false },
);
