import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly to: readonly string[];
  readonly raw: string;
}

/** A real SMTP server on an ephemeral port (the smtp-server package), collecting what it receives. */
export async function startMailPeer(): Promise<{ url: string; received: ReceivedMail[]; waitFor: (to: string, timeoutMs?: number) => Promise<ReceivedMail>; close: () => Promise<void> }> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  const waitFor = async (to: string, timeoutMs = 15_000): Promise<ReceivedMail> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = [...received].reverse().find((m) => m.to.includes(to));
      if (hit) return hit;
      if (Date.now() > until) throw new Error('no mail arrived');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { url: `smtp://127.0.0.1:${port}`, received, waitFor, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The six-digit code on its own line of the step-up message. */
export const codeIn = (raw: string): string => {
  const m = /Your code: (\d{6})/.exec(raw);
  if (!m) throw new Error('no code in the message');
  return m[1]!;
};
