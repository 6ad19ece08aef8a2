// The Email action over SMTP (nodemailer). The SMTP password is read from the worker's config.
import nodemailer from 'nodemailer';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../../config.ts';

export interface Email {
  to: string;
  subject: string;
  text: string;
}

export type Mailer = (email: Email) => Promise<{ messageId: string }>;

export function createSmtpMailer(smtp: Config['smtp']): Mailer & { close(): void } {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // The local sink speaks plain SMTP; a real relay on 587 upgrades with STARTTLS when offered.
    ignoreTLS: !smtp.secure && smtp.sink.run,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
  });
  const send = async (email: Email) => {
    const info = await transport.sendMail({ from: smtp.from, to: email.to, subject: email.subject, text: email.text });
    return { messageId: info.messageId };
  };
  return Object.assign(send, { close: () => transport.close() });
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export function createEmailActivities(deps: { mailer: Mailer }) {
  return {
    async sendEmail(email: Email): Promise<{ messageId: string }> {
      if (!ADDRESS.test(email.to)) throw ApplicationFailure.nonRetryable(`${JSON.stringify(email.to)} is not an email address.`, 'BadAddress');
      return deps.mailer(email);
    },
  };
}
