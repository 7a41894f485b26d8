import { AppError } from '../../internal/errors/app-error.js';
import { PostalAddressSchema } from '../accounts/account.input.js';
import { PROFILE_FIELDS } from '../accounts/account.fields.js';
import { ERASABLE_ACCOUNT_PARTS, type ProfileUpdater } from '../accounts/profile-updater.js';
import type { FieldEraser } from './rights.deps.js';
import { parseFieldRef } from './rights.js';

const ACCOUNT_COLUMNS: readonly string[] = [...PROFILE_FIELDS, 'password_hash'];
const camel = (column: string): string => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A request's account field as the accounts module names its parts: `accounts.postal_address.line2` →
 * `postalAddress.line2`, `accounts.phone` → `phone`; `accounts.zip` is the stored copy of the postal code and goes
 * with it. Undefined for anything that is not part of an account.
 */
function accountPart(name: string): string | undefined {
  const ref = parseFieldRef(name);
  if (!ref || ref.record !== undefined || !ref.field.startsWith('accounts.')) return undefined;
  const column = ref.field.slice('accounts.'.length);
  if (column === 'zip' && ref.part === undefined) return 'postalAddress.postalCode';
  if (!ACCOUNT_COLUMNS.includes(column)) return undefined;
  if (ref.part === undefined) return camel(column);
  return column === 'postal_address' && Object.hasOwn(PostalAddressSchema.properties, ref.part) ? `postalAddress.${ref.part}` : undefined;
}

/**
 * R-DSR-2, part: fields of the account erased on their own, through the accounts module. What sign-up does not
 * require may go (the accounts module reads it from the sign-up schema); a field the account needs is refused with
 * FIELD_REQUIRED at once (4xx: the person learns what to do instead), and a field we do not hold is UNREALISTIC.
 */
export function accountFieldEraser(profile: ProfileUpdater): FieldEraser {
  return {
    screen(fields) {
      if (fields.length === 0) return 'UNREALISTIC';
      for (const name of fields) {
        const part = accountPart(name);
        if (part === undefined) return 'UNREALISTIC';
        if (!ERASABLE_ACCOUNT_PARTS.has(part)) throw new AppError('FIELD_REQUIRED', undefined, { field: name });
      }
      return null;
    },
    erase: (ctx, subjectId, fields) => profile.eraseParts(ctx, subjectId, [...new Set(fields.map((f) => accountPart(f)!))]),
  };
}
