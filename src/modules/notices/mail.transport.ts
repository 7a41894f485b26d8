import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';

/** One e-mail as the outbox holds it (inside the ciphertext). */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** An HTML alternative of `text` (product updates); never anything the text does not say, bar an open pixel. */
  readonly html?: string;
}

/** Delivers one message; throws on failure (the outbox counts the attempt and retries). */
export interface MailTransport {
  readonly description: string;
  send(id: string, from: string, message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer when `SMTP_URL` is set; otherwise `.eml` files in the mail directory, which
 * stands for the recipients' mailboxes (outside the data directory, so never part of our storage).
 */
export function createMailTransport(options: { readonly smtpUrl: string | undefined; readonly mailDir: string }): MailTransport {
  if (options.smtpUrl) {
    const smtp = nodemailer.createTransport(options.smtpUrl);
    return {
      description: 'smtp',
      async send(id, from, message) {
        await smtp.sendMail({ messageId: `<${id}@pledge>`, from, ...message });
      },
      close: () => smtp.close(),
    };
  }
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: `files in ${options.mailDir}`,
    async send(id, from, message) {
      const info = await files.sendMail({ messageId: `<${id}@pledge>`, from, ...message });
      await fs.mkdir(options.mailDir, { recursive: true, mode: 0o700 });
      // The name is the outbox id: a message delivered twice after a crash overwrites, never duplicates.
      await fs.writeFile(path.join(options.mailDir, `${id}.eml`), info.message as Buffer, { mode: 0o600 });
    },
    close: () => files.close(),
  };
}
