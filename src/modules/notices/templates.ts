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

export interface ProductUpdate {
  /** One line: the e-mail's subject and heading. */
  readonly title: string;
  /** Plain text; paragraphs separated by blank lines. */
  readonly text: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A product or service update (R-USE-4), as text and as the same text in HTML. The HTML carries the open pixel
 * only when `pixelUrl` is given, which the product-updates service does only for people who consented (R-TEL-5).
 */
export function productUpdateMail(to: string, update: ProductUpdate, pixelUrl?: string): MailMessage {
  const paragraphs = update.text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const html = [
    `<h1>${escapeHtml(update.title)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    ...(pixelUrl === undefined ? [] : [`<img src="${escapeHtml(pixelUrl)}" width="1" height="1" alt="">`]),
  ].join('\n');
  return { to, subject: update.title, text: [update.title, '', ...paragraphs.flatMap((p) => [p, ''])].join('\n').trimEnd(), html };
}
