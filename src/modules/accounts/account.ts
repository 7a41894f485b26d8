/** The domain shapes of an account, camelCase, decrypted. Never returned to a client without a presenter. */

export type LocationPrecision = 'precise' | 'city' | 'region' | 'off';
export const LOCATION_PRECISIONS: readonly LocationPrecision[] = ['precise', 'city', 'region', 'off'];
/** Until the user chooses, locations are kept at city level (≈ 10 km): precise needs an opt-in. */
export const DEFAULT_LOCATION_PRECISION: LocationPrecision = 'city';

/** A postal address as structured data; the ZIP (R-TEL-1) is taken from `postalCode`. */
export interface PostalAddress {
  readonly line1: string;
  readonly line2?: string | undefined;
  readonly city: string;
  readonly postalCode?: string | undefined;
  readonly region?: string | undefined;
  readonly country: string;
}

export interface SignUpInput {
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly postalAddress: PostalAddress;
  readonly birthDate: string;
  readonly region: string;
  readonly language: string;
  readonly timeZone: string;
  readonly password: string;
}

export interface AccountProfile {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly postalAddress: PostalAddress;
  readonly birthDate: string;
  readonly region: string;
  readonly language: string;
  readonly timeZone: string;
  readonly zip: string | null;
  readonly areaCode: string | null;
  readonly locationPrecision: LocationPrecision;
  readonly isChild: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ProfileChanges {
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
  readonly postalAddress?: PostalAddress | undefined;
  readonly language?: string | undefined;
  readonly timeZone?: string | undefined;
  readonly locationPrecision?: LocationPrecision | undefined;
  readonly currentPassword?: string | undefined;
  readonly newPassword?: string | undefined;
}
