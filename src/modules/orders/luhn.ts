/**
 * The Luhn (mod 10) check used by payment card numbers (ISO/IEC 7812) and IMEIs (3GPP TS 23.003):
 * it catches every single-digit typo and most transpositions before anything is stored.
 *
 * @example luhnValid('4111111111111111') // true
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
