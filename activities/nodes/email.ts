// The Email action over SMTP (nodemailer, loaded at the first mail: about 16 MB a process need not
// hold at rest). The SMTP password is read from the worker's config.
import type { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { ApplicationFailure } from '@temporalio/common';
import { isLoopbackHost, type Config } from '../../config.ts';
import { notifyAddressProblem } from '../../workflows/nodes.shared.ts';

export interface Email {
  to: string;
  subject: string;
  text: string;
}

export type Mailer = (email: Email) => Promise<{ messageId: string }>;

/**
 * How nodemailer reaches the relay. Off this machine the session must be encrypted: implicit TLS
 * (SMTP_SECURE, port 465) or STARTTLS, required, so a relay (or a man in the middle) that does not
 * offer it gets no password and no mail. A loopback relay such as the local sink keeps plain SMTP.
 */
export function smtpTransportOptions(smtp: Config['smtp']): SMTPPool.Options {
  const loopback = isLoopbackHost(smtp.host);
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && !loopback,
    // The local sink offers no STARTTLS; other loopback relays may still upgrade when they offer it.
    ignoreTLS: !smtp.secure && loopback && smtp.sink.run,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
  };
}

/** A pooled SMTP transport, created with nodemailer at the first mail; `close` closes it if it was. */
export function createSmtpMailer(smtp: Config['smtp']): Mailer & { close(): void } {
  let transport: Promise<Transporter<SMTPPool.SentMessageInfo>> | undefined;
  const send = async (email: Email) => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpTransportOptions(smtp)));
    const info = await (await transport).sendMail({ from: smtp.from, to: email.to, subject: email.subject, text: email.text });
    return { messageId: info.messageId };
  };
  const close = () => {
    void transport?.then((opened) => opened.close());
  };
  return Object.assign(send, { close });
}

export interface EmailActivityDependencies {
  mailer: Mailer;
  /** NOTIFY_ALLOWED_DOMAINS: checked here too, since `temporal workflow start` does not pass the API. */
  allowedDomains: readonly string[];
}

export function createEmailActivities(deps: EmailActivityDependencies) {
  return {
    async sendEmail(email: Email): Promise<{ messageId: string }> {
      const problem = notifyAddressProblem(email.to, deps.allowedDomains);
      if (problem) throw ApplicationFailure.nonRetryable(`Will not mail ${JSON.stringify(email.to)}: ${problem.message}.`, problem.type);
      return deps.mailer(email);
    },
  };
}
