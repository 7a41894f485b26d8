import type { MailMessage } from './mail.transport.js';

/** The step-up code e-mail. The code is on a line of its own so people (and tests) find it easily. */
export function stepUpCodeMail(to: string, code: string, ttlMs: number): MailMessage {
  const minutes = Math.round(ttlMs / 60_000);
  return {
    to,
    subject: 'Your Smartmi verification code',
    text: [
      'Someone — we hope you — asked to confirm it is you before a sensitive change or request.',
      '',
      `Your code: ${code}`,
      '',
      `It is valid for ${minutes} minutes. If this was not you, ignore this message and consider changing your password.`,
    ].join('\n'),
  };
}

/** Sent to the OLD address when the account's e-mail changes, so a hijacker cannot switch it silently. */
export function emailChangedMail(to: string): MailMessage {
  return {
    to,
    subject: 'The e-mail address of your Smartmi account was changed',
    text: [
      'The e-mail address of your Smartmi account was just changed; messages now go to the new address.',
      '',
      'If this was not you, reset your password and contact us at once.',
    ].join('\n'),
  };
}
