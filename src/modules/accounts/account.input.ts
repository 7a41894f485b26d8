import { Type } from '@sinclair/typebox';

/**
 * What an account is made of on input, shared by sign-up (HTTP) and the bulk importer (CLI). Every object is
 * closed: unknown fields are refused.
 */
const text = (maxLength: number, extra: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength, ...extra });

export const PostalAddressSchema = Type.Object(
  {
    line1: text(200),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: text(100),
    postalCode: Type.Optional(Type.String({ maxLength: 20, description: 'The ZIP; stored encrypted as its own field (R-TEL-1)' })),
    region: Type.Optional(Type.String({ maxLength: 100 })),
    country: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' }),
  },
  { additionalProperties: false },
);

export const PasswordSchema = Type.String({ maxLength: 1024, description: 'At least 10 characters, no composition rules (NIST SP 800-63B)' });
export const SignUpBody = Type.Object(
  {
    name: text(200),
    email: text(254, { description: 'Normalised: trimmed, lower-cased' }),
    phone: text(32, { description: 'E.164 (+49…) or national in the account region; stored as E.164' }),
    postalAddress: PostalAddressSchema,
    birthDate: Type.String({ maxLength: 10, description: 'YYYY-MM-DD; under the policy threshold for the region marks a child account (R-KID-1)' }),
    region: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2 country of residence' }),
    language: text(35, { description: 'BCP 47 tag' }),
    timeZone: text(64, { description: 'IANA time zone' }),
    password: PasswordSchema,
  },
  { additionalProperties: false },
);

/** The shapes of the profile fields a person may correct (`PATCH /v1/me`, and corrections filed as rights requests). */
export const ProfileCorrectionSchemas = {
  name: text(200),
  email: text(254),
  phone: text(32),
  postalAddress: PostalAddressSchema,
  language: text(35),
  timeZone: text(64),
} as const;
