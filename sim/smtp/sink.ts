// A local SMTP sink: accepts every message (no relay), keeps the newest ones, and lists them over
// HTTP for the UI's mailbox. Messages also go to a JSON-lines file, so a restart keeps the mailbox.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';

export interface SinkMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface SmtpSinkOptions {
  /** JSON-lines file the mailbox is kept in (undefined: memory only). */
  storePath?: string;
  /** The newest messages kept; older ones are dropped. */
  keep?: number;
  /** Largest message accepted, in bytes. */
  maxMessageBytes?: number;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? v.name));
}

export function createSmtpSink(options: SmtpSinkOptions = {}) {
  const keep = options.keep ?? 1000;
  let messages: SinkMessage[] = [];
  if (options.storePath && existsSync(options.storePath)) {
    messages = readFileSync(options.storePath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as SinkMessage)
      .slice(-keep);
  }
  const remember = (message: SinkMessage) => {
    messages.push(message);
    if (messages.length > keep) messages = messages.slice(-keep);
    if (options.storePath) {
      mkdirSync(dirname(options.storePath), { recursive: true });
      appendFileSync(options.storePath, `${JSON.stringify(message)}\n`);
    }
  };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: options.maxMessageBytes ?? 5 * 1024 * 1024,
    banner: 'Fleet Runbooks SMTP sink: nothing is relayed',
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          remember({
            id: randomUUID(),
            receivedAt: new Date().toISOString(),
            from: addresses(parsed.from)[0] ?? session.envelope.mailFrom?.toString() ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });

  const http = new Hono();
  http.get('/healthz', (c) => c.json({ ok: true }));
  http.get('/messages', (c) => {
    const to = c.req.query('to');
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const matching = to ? messages.filter((m) => m.to.includes(to)) : messages;
    return c.json({ messages: matching.slice(-limit).reverse(), total: matching.length });
  });
  http.delete('/messages', (c) => {
    messages = [];
    if (options.storePath && existsSync(options.storePath)) writeFileSync(options.storePath, '');
    return c.body(null, 204);
  });

  return { smtp, http, messages: () => messages };
}
