import { Type } from '@sinclair/typebox';
import { LOCATION_PRECISIONS, type AccountProfile } from '../../modules/accounts/account.js';
import { PasswordSchema, PostalAddressSchema, SignUpBody } from '../../modules/accounts/account.input.js';

export { PasswordSchema, PostalAddressSchema, SignUpBody };

/** Response schemas and the presenter of the account routes. */
export const PrecisionSchema = Type.Union(LOCATION_PRECISIONS.map((p) => Type.Literal(p)));

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
