import { AppError } from '../../internal/errors/app-error.js';
import { luhnValid } from '../orders/luhn.js';

/**
 * An IMEI is 14 digits plus a Luhn check digit (3GPP TS 23.003 §6.2.1). Checking it before storage
 * keeps typos and made-up identifiers out of warranty and licence records.
 *
 * @example assertImei('490154203237518')
 */
export function assertImei(imei: string): string {
  if (!/^\d{15}$/.test(imei) || !luhnValid(imei)) {
    throw new AppError('IMEI_INVALID', 'The IMEI must be 15 digits with a valid check digit', { field: 'imei' });
  }
  return imei;
}
