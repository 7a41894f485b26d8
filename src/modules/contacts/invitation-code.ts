import { createHash, randomBytes } from 'node:crypto';
import type { ShareReason } from './contact.js';

// Crockford's base32: no I, L, O or U, so a code read off a screen and typed in survives the usual misreadings.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 16; // 80 bits: unguessable within the attempt limits, short enough to type

/**
 * A fresh one-time invitation code, grouped for typing.
 *
 * @example newInvitationCode() // 'K7QD-M2XA-9FHT-0BWE'
 */
export function newInvitationCode(): string {
  const bytes = randomBytes(CODE_CHARS);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]!).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** The code as typed, in its one normal form: case, spaces and dashes ignored, I/L read as 1 and O as 0. */
export function normaliseInvitationCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

/** Only this hash is stored: the code is high-entropy, so a plain hash cannot be reversed by guessing. */
export function invitationCodeHash(typed: string): string {
  return createHash('sha256').update(`pledge/contact-invitation\u0000${normaliseInvitationCode(typed)}`).digest('hex');
}

/**
 * The message to the person shared with. It carries the code to type in (never a link with the code in
 * its query, which would end up in access logs), when the details are erased unless accepted, and how to
 * have them erased now (R-ACC-3).
 */
export function invitationMessage(reason: ShareReason, code: string, expiresAt: string): { subject: string; text: string } {
  const what = reason === 'invite' ? 'invited you to join the Smartmi community' : 'wants to share something with you on Smartmi';
  return {
    subject: reason === 'invite' ? 'You are invited to Smartmi' : 'Something was shared with you on Smartmi',
    text: [
      `A Smartmi user ${what} and gave us your contact details for that.`,
      '',
      'To accept, sign in to Smartmi (or create an account) and enter this invitation code:',
      '',
      `    ${code}`,
      '',
      `If you do not accept by ${expiresAt.slice(0, 10)}, we erase your details then.`,
      'To have them erased now, ask for it with this address on the Smartmi privacy page.',
    ].join('\n'),
  };
}
