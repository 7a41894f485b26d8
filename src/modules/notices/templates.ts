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
