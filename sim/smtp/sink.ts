// A local SMTP sink: accepts every message (no relay), keeps the newest ones (sim/smtp/store.ts),
// and lists them over HTTP for the UI's mailbox. A message it cannot parse, a message too large
// or a client that drops the connection is refused or logged: none of them stops the sink.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import { openMessageStore, type SinkMessage } from './store.ts';

export type { SinkMessage } from './store.ts';

export interface SmtpSinkOptions {
  /** JSON-lines file the mailbox is kept in (undefined: memory only). */
  storePath?: string;
  /** The newest messages kept, in memory and on disk (SMTP_SINK_MAX_MESSAGES); older ones are dropped. */
  maxMessages?: number;
  /** Largest message accepted, in bytes. */
  maxMessageBytes?: number;
  /** Where skipped store lines and refused messages are reported (default console.warn). */
  warn?: (message: string) => void;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? v.name));
}

/** An SMTP reply to the client: the message is refused, the session and the sink go on. */
const refusal = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export function createSmtpSink(options: SmtpSinkOptions = {}) {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const store = openMessageStore({ path: options.storePath, maxMessages: options.maxMessages ?? 1000, warn });

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    let parsed;
    try {
      parsed = await simpleParser(stream);
    } catch (error) {
      throw refusal(554, `The message could not be parsed: ${(error as Error).message}`);
    }
    if (stream.sizeExceeded) throw refusal(552, 'The message is larger than this sink accepts.');
    store.add({
      id: randomUUID(),
      receivedAt: new Date().toISOString(),
      from: addresses(parsed.from)[0] ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
      to: session.envelope.rcptTo.map((r) => r.address),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
    } satisfies SinkMessage);
  }

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: options.maxMessageBytes ?? 5 * 1024 * 1024,
    banner: 'Fleet Runbooks SMTP sink: nothing is relayed',
    logger: false,
    onData(stream, session, callback) {
      receive(stream, session).then(
        () => callback(),
        (error: Error) => {
          warn(`SMTP sink refused a message: ${error.message}`);
          // Whatever is left of the message is read and dropped, so the session can go on.
          stream.resume();
          callback(error);
        },
      );
    },
  });
  // A client's connection error (a reset mid-message) reaches the server as 'error': log it and go on.
  // Listening errors (a port in use) are the process's to handle (sim/smtp/server.ts).
  smtp.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall !== 'listen') warn(`SMTP sink connection error: ${error.message}`);
  });

  const http = new Hono();
  http.get('/healthz', (c) => c.json({ ok: true }));
  http.get('/messages', (c) => {
    const to = c.req.query('to');
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const messages = store.all();
    const matching = to ? messages.filter((m) => m.to.includes(to)) : messages;
    return c.json({ messages: matching.slice(-limit).reverse(), total: matching.length });
  });
  http.delete('/messages', (c) => {
    store.clear();
    return c.body(null, 204);
  });

  return { smtp, http, messages: () => store.all() };
}
