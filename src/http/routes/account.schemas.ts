import { Type } from '@sinclair/typebox';
import { LOCATION_PRECISIONS, type AccountProfile } from '../../modules/accounts/account.js';

/** Shared request/response schemas of the account routes. Every object is closed: unknown fields are refused. */
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
export const PrecisionSchema = Type.Union(LOCATION_PRECISIONS.map((p) => Type.Literal(p)));

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

export const ProfileSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  phone: Type.String(),
  postalAddress: Type.Object({ line1: Type.String(), line2: Type.Optional(Type.String()), city: Type.String(), postalCode: Type.Optional(Type.String()), region: Type.Optional(Type.String()), country: Type.String() }),
  birthDate: Type.String(),
  region: Type.String(),
  language: Type.String(),
  timeZone: Type.String(),
  zip: Type.Union([Type.String(), Type.Null()]),
  areaCode: Type.Union([Type.String(), Type.Null()]),
  locationPrecision: PrecisionSchema,
  child: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/** The presenter: lists every field that leaves the server; ciphertexts and indexes never do. */
export function presentProfile(p: AccountProfile) {
  const a = p.postalAddress;
  return {
    id: p.id,
    name: p.name,
    email: p.email,
    phone: p.phone,
    postalAddress: { line1: a.line1, ...(a.line2 ? { line2: a.line2 } : {}), city: a.city, ...(a.postalCode ? { postalCode: a.postalCode } : {}), ...(a.region ? { region: a.region } : {}), country: a.country },
    birthDate: p.birthDate,
    region: p.region,
    language: p.language,
    timeZone: p.timeZone,
    zip: p.zip,
    areaCode: p.areaCode,
    locationPrecision: p.locationPrecision,
    child: p.isChild,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
